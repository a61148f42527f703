namespace LlavaUhd.Edge.Inference.Models;

/// <summary>Special tokens: every added token the runtime relies on, with its id.</summary>
public sealed class ManifestTokens
{
    public int ImageTokenId { get; init; }

    public int BosTokenId { get; init; }

    public int PadTokenId { get; init; }

    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>
    /// The tokenizer's named special tokens (<c>bos_token</c>, <c>eos_token</c>, <c>pad_token</c>, <c>unk_token</c>) as
    /// the reference resolves them: tokenizer_config.json, overridden by special_tokens_map.json.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Named { get; init; }

    /// <summary>The tokenizer's <c>additional_special_tokens</c>.</summary>
    public IReadOnlyList<string>? Additional { get; init; }

    /// <summary>Token text → id, e.g. <c>"&lt;image&gt;": 49190</c>. The tokenizer must have every one of them.</summary>
    public required IReadOnlyDictionary<string, int> Special { get; init; }
}
