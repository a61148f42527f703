namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>The type of one field of a <see cref="AnswerKind.Json"/> answer.</summary>
public enum JsonFieldKind
{
    Boolean,
    Integer,
    Number,

    /// <summary>A string from <see cref="JsonField.Options"/> (<c>"enum"</c>).</summary>
    Enum,

    /// <summary>A short free string (printable ASCII without <c>"</c> and <c>\</c>, at most <see cref="JsonField.MaxLength"/>).</summary>
    String,
}
