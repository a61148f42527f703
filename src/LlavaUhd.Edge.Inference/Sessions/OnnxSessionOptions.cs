using System.Collections.Concurrent;
using System.Diagnostics;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlavaUhd.Edge.Inference.Sessions;

/// <summary>Options of the sessions the factory creates.</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>Threads inside one operator (0 = ONNX Runtime's default, one per core). Overrides <see cref="CpuOptions.IntraOpThreads"/> when set.</summary>
    public int IntraOpThreads { get; init; }

    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>The provider chain; null means CPU only (tools that describe or quantize graphs).</summary>
    public ExecutionProviderOptions? Providers { get; init; }
}
