namespace LlavaUhd.Edge.Core.Schema;

/// <summary>A piece of a laid-out prompt: literal text, or <see cref="Count"/> placeholders for view <see cref="View"/>.</summary>
public readonly record struct PromptSegment(string? Text, int View, int Count)
{
    public bool IsPlaceholder => Text is null;

    public static PromptSegment Literal(string text) => new(text, -1, 0);

    public static PromptSegment Placeholders(int view, int count) => new(null, view, count);
}
