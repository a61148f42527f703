using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>A named input tensor of a calibration run (float, int64 or bool data with its shape).</summary>
public sealed record FeedTensor(Array Data, long[] Shape)
{
    public OrtValue ToOrtValue() => Data switch
    {
        float[] f => OrtValue.CreateTensorValueFromMemory(f, Shape),
        long[] l => OrtValue.CreateTensorValueFromMemory(l, Shape),
        bool[] b => OrtValue.CreateTensorValueFromMemory(b, Shape),
        _ => throw new ArgumentException($"unsupported feed element type {Data.GetType()}"),
    };
}
