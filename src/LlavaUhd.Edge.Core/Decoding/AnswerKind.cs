namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>The kinds of typed answers (docs/typed-answers.md).</summary>
public enum AnswerKind
{
    /// <summary><c>yes_no</c>: a JSON boolean.</summary>
    YesNo,

    /// <summary><c>number</c>: a JSON number, optionally bounded and integer.</summary>
    Number,

    /// <summary><c>choice</c>: one of a few strings.</summary>
    Choice,

    /// <summary><c>json</c>: an object of typed fields (a small JSON Schema).</summary>
    Json,
}
