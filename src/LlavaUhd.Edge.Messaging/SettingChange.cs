namespace LlavaUhd.Edge.Messaging;

/// <summary>A validated setting change.</summary>
public sealed record SettingChange
{
    public required string Camera { get; init; }
    public required CameraSetting Setting { get; init; }
    public bool? Enabled { get; init; }
    public string? Question { get; init; }

    /// <summary>True when a <c>question</c> payload was an object: <see cref="AnswerType"/> replaces the question's type (null: free text).</summary>
    public bool SetsAnswerType { get; init; }

    public LlavaUhd.Edge.Core.Decoding.AnswerType? AnswerType { get; init; }

    public double? IntervalS { get; init; }
    public ReplyRoute Reply { get; init; } = ReplyRoute.None;

    /// <summary>The topic level of <see cref="Setting"/> (<c>enable</c>, <c>question</c>, <c>interval</c>).</summary>
    public string SettingName => Setting.ToString().ToLowerInvariant();
}
