namespace LlavaUhd.Edge.Inference.Models;

/// <summary>Generation defaults (from generation_config.json).</summary>
public sealed class ManifestGeneration
{
    public int MaxNewTokens { get; init; } = 256;

    public bool DoSample { get; init; }

    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
}
