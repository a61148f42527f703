namespace LlavaUhd.Edge.Core.Prompting;

/// <summary>Turns text into token ids. Special tokens written in the text (e.g. <c>&lt;image&gt;</c>) become their ids; no BOS is added.</summary>
public interface ITextTokenizer
{
    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    void Encode(string text, List<int> ids);

    /// <summary>The id of a single (special) token, or null when the vocabulary has no such token.</summary>
    int? TokenToId(string token);
}
