namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>
/// A character-level acceptor of the text a typed answer may be (docs/typed-answers.md): from <see cref="Start"/>,
/// <see cref="Next"/> follows one character or rejects it, and <see cref="IsAccepting"/> says whether the text so far
/// is complete. Every state it hands out can still be completed, so a decoder that only follows accepted characters
/// always ends with valid text. States are small integers, created on first use and kept; not thread-safe.
/// </summary>
public abstract class AnswerGrammar
{
    /// <summary>The state <see cref="Next"/> returns for a character that is not allowed.</summary>
    public const int Reject = -1;

    public abstract int Start { get; }

    /// <summary>The longest valid text, in characters (a token has at least one, so this bounds the tokens too).</summary>
    public abstract int MaxLength { get; }

    /// <summary>The state after <paramref name="c"/>, or <see cref="Reject"/>.</summary>
    public abstract int Next(int state, char c);

    public abstract bool IsAccepting(int state);

    /// <summary>The grammar of <paramref name="type"/>: answers may start with one space, as the model's words do.</summary>
    public static AnswerGrammar For(AnswerType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.Kind switch
        {
            AnswerKind.YesNo or AnswerKind.Choice => new ChoiceGrammar(type.Options, ignoreCase: true, leadingSpace: true),
            AnswerKind.Number => new NumberGrammar(type.Min, type.Max, type.Integer, leadingSpace: true),
            _ => new JsonObjectGrammar(type.Fields),
        };
    }

    /// <summary>True when <paramref name="text"/> is a complete, valid text of this grammar.</summary>
    public bool Accepts(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int s = Start;
        foreach (char c in text)
        {
            s = Next(s, c);
            if (s == Reject)
            {
                return false;
            }
        }

        return IsAccepting(s);
    }
}
