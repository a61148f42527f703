using System.Text.Json;
using System.Text.Json.Serialization;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Inference.Models;

/// <summary>A tensor's name, element type and shape (-1 for a symbolic dimension).</summary>
public sealed record ManifestTensor(string Name, string DType, IReadOnlyList<long> Shape);
