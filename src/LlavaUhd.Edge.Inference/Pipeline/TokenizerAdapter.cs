using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Inference.Tokenization;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>The package's tokenizer as Core's <see cref="ITextTokenizer"/>, plus decoding of generated ids.</summary>
public sealed class TokenizerAdapter : ITextTokenizer
{
    private readonly HfTokenizer _tokenizer;

    public TokenizerAdapter(HfTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        var known = new HashSet<int>(tokenizer.AddedTokens.Values);
        if (tokenizer.Tokenizer is Microsoft.ML.Tokenizers.BpeTokenizer bpe)
        {
            known.UnionWith(bpe.Vocabulary.Values);
        }

        KnownIds = known;
    }

    /// <summary>The ids of the tokenizer's added (control) tokens: image scaffolding, chat markers, reserved tokens.</summary>
    public IReadOnlyCollection<int> AddedTokenIds => [.. _tokenizer.AddedTokens.Values];

    /// <summary>Every id the tokenizer can turn back into text (the model's vocabulary may have unused rows beyond it).</summary>
    public IReadOnlySet<int> KnownIds { get; }

    public void Encode(string text, List<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ids.AddRange(_tokenizer.Tokenizer.EncodeToIds(text));
    }

    public int? TokenToId(string token)
    {
        if (_tokenizer.AddedTokens.TryGetValue(token, out int id))
        {
            return id;
        }

        IReadOnlyList<int> ids = _tokenizer.Tokenizer.EncodeToIds(token);
        return ids.Count == 1 ? ids[0] : null;
    }

    /// <summary>The text of <paramref name="ids"/> (special tokens included as written).</summary>
    public string Decode(IEnumerable<int> ids) => _tokenizer.Tokenizer.Decode(ids) ?? string.Empty;
}
