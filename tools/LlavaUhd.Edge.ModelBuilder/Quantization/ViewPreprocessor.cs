using OpenCvSharp;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>
/// Turns a calibration image into one normalised CHW view of the encoder's size. A stand-in for the real pixel path
/// (Pillow-exact resize and slicing, built separately); swap the implementation when that lands.
/// </summary>
public interface IViewPreprocessor
{
    /// <summary>RGB, CHW, float32, <c>(x/255 − mean)/std</c>, <paramref name="size"/>×<paramref name="size"/>.</summary>
    float[] Preprocess(string imagePath, int size, IReadOnlyList<float> mean, IReadOnlyList<float> std);
}

/// <summary>Simple OpenCV preprocessing: resize the whole image (area/bilinear) to the view size, normalise.</summary>
public sealed class SimpleViewPreprocessor : IViewPreprocessor
{
    public static IReadOnlyList<string> ImageExtensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".webp"];

    public float[] Preprocess(string imagePath, int size, IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        using Mat bgr = Cv2.ImRead(imagePath, ImreadModes.Color);
        if (bgr.Empty())
        {
            throw new InvalidDataException($"'{imagePath}' is not an image OpenCV can read");
        }

        using var resized = new Mat();
        Cv2.Resize(bgr, resized, new Size(size, size), 0, 0, InterpolationFlags.Linear);
        float[] chw = new float[3 * size * size];
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                Vec3b px = resized.At<Vec3b>(y, x);
                int o = (y * size) + x;
                chw[o] = ((px.Item2 / 255f) - mean[0]) / std[0];
                chw[(size * size) + o] = ((px.Item1 / 255f) - mean[1]) / std[1];
                chw[(2 * size * size) + o] = ((px.Item0 / 255f) - mean[2]) / std[2];
            }
        }

        return chw;
    }
}
