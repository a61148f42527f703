namespace LlavaUhd.Edge.Inference.Models;

/// <summary>A tensor's name, element type and shape (-1 for a symbolic dimension).</summary>
public sealed record ManifestTensor(string Name, string DType, IReadOnlyList<long> Shape);
