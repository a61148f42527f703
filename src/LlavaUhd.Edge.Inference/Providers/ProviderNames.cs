namespace LlavaUhd.Edge.Inference.Providers;

/// <summary>ONNX Runtime execution providers the factory knows, by their configuration names.</summary>
public static class ProviderNames
{
    public const string TensorRt = "tensorrt";
    public const string Cuda = "cuda";
    public const string Cpu = "cpu";

    public static IReadOnlyList<string> All { get; } = [TensorRt, Cuda, Cpu];
}
