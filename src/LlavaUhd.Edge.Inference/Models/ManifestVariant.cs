using System.Text.Json;
using System.Text.Json.Serialization;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Inference.Models;

/// <summary>The sessions of one precision variant.</summary>
public sealed class ManifestVariant
{
    public required IReadOnlyDictionary<string, ManifestSession> Sessions { get; init; }
}
