using LlavaUhd.Edge.Inference.Providers;
using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.Inference.Sessions;

/// <summary>Options of the sessions the factory creates.</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>Threads inside one operator (0 = one per processor the process may use, see <see cref="CpuOptions.IntraOpThreads"/>). Overrides <see cref="CpuOptions.IntraOpThreads"/> when set.</summary>
    public int IntraOpThreads { get; init; }

    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>ONNX Runtime's CPU memory arena when <see cref="Providers"/> is null: shared, session or off (see <see cref="CpuOptions.MemoryArena"/>).</summary>
    public string MemoryArena { get; init; } = CpuArenas.Shared;

    /// <summary>The provider chain; null means CPU only (tools that describe or quantize graphs).</summary>
    public ExecutionProviderOptions? Providers { get; init; }
}
