using System.Globalization;

namespace LlavaUhd.Edge.Inference.Providers;

/// <summary>ONNX Runtime execution providers the factory knows, by their configuration names.</summary>
public static class ProviderNames
{
    public const string TensorRt = "tensorrt";
    public const string Cuda = "cuda";
    public const string Cpu = "cpu";

    public static IReadOnlyList<string> All { get; } = [TensorRt, Cuda, Cpu];
}

/// <summary>
/// Which execution providers to try, in order, and how to configure each. The factory tries them in
/// <see cref="Order"/>; a provider that cannot load is skipped with one log line naming it and the reason; CPU is
/// always the last resort unless <see cref="Require"/> names another provider.
/// </summary>
public sealed class ExecutionProviderOptions
{
    public const string SectionName = "Inference:Providers";

    /// <summary>Providers in order of preference (default: tensorrt, cuda, cpu).</summary>
    public IList<string> Order { get; set; } = [ProviderNames.TensorRt, ProviderNames.Cuda, ProviderNames.Cpu];

    /// <summary>A provider that must be used: the factory refuses to create sessions without it (e.g. <c>tensorrt</c> on a Jetson).</summary>
    public string? Require { get; set; }

    public TensorRtOptions TensorRt { get; set; } = new();

    public CudaOptions Cuda { get; set; } = new();

    public CpuOptions Cpu { get; set; } = new();

    /// <summary>Every problem with these options (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Order.Count == 0)
        {
            problems.Add("Inference:Providers:Order is empty; list at least one of tensorrt, cuda, cpu.");
        }

        foreach (string p in Order)
        {
            if (!ProviderNames.All.Contains(p))
            {
                problems.Add($"Inference:Providers:Order has unknown provider '{p}'; expected tensorrt, cuda or cpu.");
            }
        }

        if (Order.Distinct().Count() != Order.Count)
        {
            problems.Add("Inference:Providers:Order lists a provider twice.");
        }

        if (Require is not null && !Order.Contains(Require))
        {
            problems.Add($"Inference:Providers:Require is '{Require}', which is not in Order ({string.Join(", ", Order)}).");
        }

        problems.AddRange(TensorRt.Problems());
        if (Cuda.DeviceId < 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:Providers:Cuda:DeviceId = {Cuda.DeviceId} must be 0 or more."));
        }

        if (!CpuArenas.All.Contains(Cpu.MemoryArena))
        {
            problems.Add($"Inference:Providers:Cpu:MemoryArena '{Cpu.MemoryArena}' is not one of {string.Join(", ", CpuArenas.All)}.");
        }

        if (Cpu.IntraOpThreads < 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:Providers:Cpu:IntraOpThreads = {Cpu.IntraOpThreads} must be 0 (all cores) or more."));
        }

        return problems;
    }
}

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

public sealed class CudaOptions
{
    public int DeviceId { get; set; }
}

/// <summary>The values of <see cref="CpuOptions.MemoryArena"/>.</summary>
public static class CpuArenas
{
    public const string Shared = "shared";
    public const string Session = "session";
    public const string Off = "off";

    public static IReadOnlyList<string> All { get; } = [Shared, Session, Off];
}

public sealed class CpuOptions
{
    /// <summary>Threads inside one operator (0 = one per core).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>disable, basic, extended or all.</summary>
    public string OptimizationLevel { get; set; } = "all";

    /// <summary>When set, each session's optimised graph is saved here (faster later starts, inspectable).</summary>
    public string? OptimizedModelDir { get; set; }

    /// <summary>
    /// ONNX Runtime's CPU memory arena (docs/memory.md): <c>shared</c> (the default) = one arena for every session of
    /// the process, registered in ONNX Runtime's environment and growing only by what is requested (the encoder's
    /// activations and the decoder's prefill reuse the same memory); <c>session</c> = an arena per session, growing in
    /// powers of two (ONNX Runtime's default); <c>off</c> = plain malloc (RSS then depends on the C library's reuse).
    /// </summary>
    public string MemoryArena { get; set; } = CpuArenas.Shared;

    /// <summary>
    /// ONNX Runtime's memory pattern (<c>SessionOptions.EnableMemoryPattern</c>): one block per run, planned for the
    /// input shape and cached per shape. Off by default: with the shared arena each tensor is allocated when it is
    /// produced and freed after its last use, which peaked ~110 MB lower for a 1080p frame (docs/memory.md).
    /// </summary>
    public bool MemoryPattern { get; set; }

    /// <summary>
    /// Let kernels repack constant weights at load (off sets <c>session.disable_prepacking</c>): faster integer and
    /// float GEMMs at the price of a packed copy of each weight (docs/memory.md).
    /// </summary>
    public bool Prepacking { get; set; } = true;
}

/// <summary>The required provider is not available in this ONNX Runtime build or on this machine.</summary>
public sealed class ProviderUnavailableException : Exception
{
    public ProviderUnavailableException()
    {
    }

    public ProviderUnavailableException(string message)
        : base(message)
    {
    }

    public ProviderUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
