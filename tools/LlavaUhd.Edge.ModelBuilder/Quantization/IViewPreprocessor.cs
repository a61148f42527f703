namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>Turns a calibration image into one normalised CHW view of the encoder's size.</summary>
public interface IViewPreprocessor
{
    /// <summary>RGB, CHW, float32, <c>(x/255 − mean)/std</c>, <paramref name="size"/>×<paramref name="size"/>.</summary>
    float[] Preprocess(string imagePath, int size, IReadOnlyList<float> mean, IReadOnlyList<float> std);
}
