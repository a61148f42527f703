using System.Globalization;

namespace LlavaUhd.Edge.Inference.Providers;

/// <summary>TensorRT execution provider settings (ONNX Runtime's <c>trt_*</c> keys).</summary>
public sealed class TensorRtOptions
{
    public int DeviceId { get; set; }

    /// <summary>Build FP16 kernels where faster (<c>trt_fp16_enable</c>).</summary>
    public bool Fp16 { get; set; } = true;

    /// <summary>Build INT8 kernels (<c>trt_int8_enable</c>); QDQ models carry their own scales.</summary>
    public bool Int8 { get; set; } = true;

    /// <summary>Engines are cached here, in a sub-folder per model hash and precision; building one takes minutes on a Jetson.</summary>
    public string EngineCacheDir { get; set; } = "/var/cache/llava-edge/trt";

    /// <summary>The timing cache (shared by all engines); defaults to <see cref="EngineCacheDir"/>.</summary>
    public string? TimingCacheDir { get; set; }

    /// <summary>Run on a DLA core (Orin NX/AGX have two; Orin Nano has none). Null = GPU only.</summary>
    public int? DlaCore { get; set; }

    public long WorkspaceBytes { get; set; } = 2L << 30;

    /// <summary>TensorRT builder optimisation level 0–5 (higher builds longer, may run faster).</summary>
    public int BuilderOptimizationLevel { get; set; } = 3;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(EngineCacheDir))
        {
            problems.Add("Inference:Providers:TensorRt:EngineCacheDir is empty; TensorRT engines must be cached or every start rebuilds them.");
        }

        if (DlaCore is < 0 or > 1)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:Providers:TensorRt:DlaCore = {DlaCore} must be 0 or 1 (or unset)."));
        }

        if (WorkspaceBytes < (64L << 20))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:Providers:TensorRt:WorkspaceBytes = {WorkspaceBytes} is below 64 MiB."));
        }

        if (BuilderOptimizationLevel is < 0 or > 5)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:Providers:TensorRt:BuilderOptimizationLevel = {BuilderOptimizationLevel} must be 0–5."));
        }

        return problems;
    }
}
