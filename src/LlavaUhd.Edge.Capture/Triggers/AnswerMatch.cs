namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>How an answer is compared with <see cref="GpioOutputOptions.Match"/>.</summary>
public enum AnswerMatch
{
    /// <summary>The answer contains the text (case-insensitive).</summary>
    Contains,

    /// <summary>The trimmed answer equals the text (case-insensitive).</summary>
    Equals,

    /// <summary>The answer matches the regular expression (case-insensitive).</summary>
    Regex,
}
