namespace LlavaUhd.Edge.Inference.Models;

/// <summary>One ONNX file: its path, hash and I/O as ONNX Runtime reports it.</summary>
public sealed class ManifestSession
{
    public required string File { get; init; }

    public required string Sha256 { get; init; }

    public long Bytes { get; init; }

    public required IReadOnlyList<ManifestTensor> Inputs { get; init; }

    public required IReadOnlyList<ManifestTensor> Outputs { get; init; }

    /// <summary>Inputs of <see cref="ModelContracts.OptionalInputNames"/> that this export has.</summary>
    public IReadOnlyList<string> OptionalInputs { get; init; } = [];
}
