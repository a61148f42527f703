using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlavaUhd.Edge.Inference.Sessions;

/// <summary>Options of the CPU sessions the factory creates.</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>Threads inside one operator (0 = ONNX Runtime's default, one per core).</summary>
    public int IntraOpThreads { get; init; }

    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;
}

/// <summary>
/// Creates every ONNX Runtime session of the project (one place for provider and thread options). For now CPU only;
/// the provider chain (TensorRT → CUDA → CPU) lands here with the inference pipeline.
/// </summary>
public sealed class OnnxSessionFactory
{
    public OnnxSessionFactory(OnnxSessionOptions? options = null)
    {
        Options = options ?? new OnnxSessionOptions();
    }

    public OnnxSessionOptions Options { get; }

    /// <summary>Opens <paramref name="path"/>; ONNX Runtime errors become <see cref="ModelPackageException"/> naming <paramref name="displayName"/>.</summary>
    public InferenceSession Create(string path, string? displayName = null)
    {
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = Options.OptimizationLevel,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            InterOpNumThreads = 1,
            IntraOpNumThreads = Options.IntraOpThreads,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            return new InferenceSession(path, so);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelPackageException(displayName ?? path, $"ONNX Runtime cannot load it: {ex.Message}", ex);
        }
    }

    /// <summary>The inputs of a session as the manifest records them, in graph order.</summary>
    public static List<ManifestTensor> Describe(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata) =>
        names.Select(n => new ManifestTensor(n, DTypeName(metadata[n]), metadata[n].Dimensions.Select(d => (long)d).ToArray())).ToList();

    public static string DTypeName(NodeMetadata metadata) =>
        !metadata.IsTensor ? "non-tensor" : metadata.ElementDataType switch
        {
            TensorElementType.Float => TensorDTypes.Float32,
            TensorElementType.Float16 => TensorDTypes.Float16,
            TensorElementType.Int64 => TensorDTypes.Int64,
            TensorElementType.Int32 => TensorDTypes.Int32,
            TensorElementType.Int8 => TensorDTypes.Int8,
            TensorElementType.UInt8 => TensorDTypes.Uint8,
            TensorElementType.Bool => TensorDTypes.Bool,
            TensorElementType other => other.ToString().ToLowerInvariant(),
        };
}
