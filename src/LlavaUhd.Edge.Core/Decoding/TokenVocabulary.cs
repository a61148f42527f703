namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>
/// The text of every token of a model's vocabulary, as a typed answer's grammar sees it: null for tokens that can never
/// be part of a typed answer (control tokens, pieces of multi-byte characters, unused rows). Built once per model.
/// </summary>
public sealed class TokenVocabulary
{
    private readonly string?[] _texts;
    private readonly int[][] _byFirstChar;

    /// <param name="texts">Per token id its decoded text, or null; ids past the end are unused rows of the model.</param>
    /// <param name="size">The model's vocabulary size (the length of a logits row).</param>
    public TokenVocabulary(IReadOnlyList<string?> texts, int size)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, texts.Count);
        _texts = new string?[size];
        var buckets = new List<int>[128];
        for (int i = 0; i < texts.Count; i++)
        {
            string? t = texts[i];
            if (string.IsNullOrEmpty(t) || !t.All(char.IsAscii))
            {
                continue;   // typed answers are ASCII; a piece of a multi-byte character never fits
            }

            _texts[i] = t;
            (buckets[t[0]] ??= []).Add(i);
        }

        _byFirstChar = [.. buckets.Select(b => b?.ToArray() ?? [])];
    }

    /// <summary>The length of a logits row.</summary>
    public int Size => _texts.Length;

    /// <summary>The text of <paramref name="id"/>, or null when it is never part of a typed answer.</summary>
    public string? TextOf(int id) => (uint)id < (uint)_texts.Length ? _texts[id] : null;

    /// <summary>The ids of the tokens whose text starts with <paramref name="c"/> (ASCII).</summary>
    internal ReadOnlySpan<int> StartingWith(char c) => c < 128 ? _byFirstChar[c] : [];
}
