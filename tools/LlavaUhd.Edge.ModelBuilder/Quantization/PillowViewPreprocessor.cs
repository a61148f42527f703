using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>
/// The runtime's own pixels: the whole image resized to the view with the Pillow-exact resampler and the filter the
/// model was trained with (LANCZOS for SmolVLM, BICUBIC for MiniCPM-V), RGB, normalised — what the encoder sees at
/// inference, so calibrated activation ranges match.
/// </summary>
public sealed class PillowViewPreprocessor(ResampleFilter filter) : IViewPreprocessor
{
    /// <summary>File extensions taken as calibration images.</summary>
    public static IReadOnlyList<string> ImageExtensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".webp"];

    public float[] Preprocess(string imagePath, int size, IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        using Mat bgr = Cv2.ImRead(imagePath, ImreadModes.Color);
        if (bgr.Empty())
        {
            throw new InvalidDataException($"'{imagePath}' is not an image OpenCV can read");
        }

        int rows = bgr.Rows, cols = bgr.Cols;
        byte[] packed = new byte[rows * cols * 3];
        for (int y = 0; y < rows; y++)
        {
            System.Runtime.InteropServices.Marshal.Copy(bgr.Ptr(y), packed, y * cols * 3, cols * 3);
        }

        ImageView view = ImageView.Packed(packed, cols, rows, PixelFormat.Bgr24);
        byte[] rgb = new byte[size * size * 3];
        using var resampler = new PillowResampler(degreeOfParallelism: Environment.ProcessorCount);
        resampler.Resize(view, new PixelSize(size, size), filter, rgb);
        float[] chw = new float[3 * size * size];
        int plane = size * size;
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                chw[(c * plane) + i] = ((rgb[(i * 3) + c] / 255f) - mean[c]) / std[c];
            }
        }

        return chw;
    }
}
