namespace LlavaUhd.Edge.Inference.Models;

/// <summary>The sessions of one precision variant.</summary>
public sealed class ManifestVariant
{
    public required IReadOnlyDictionary<string, ManifestSession> Sessions { get; init; }
}
