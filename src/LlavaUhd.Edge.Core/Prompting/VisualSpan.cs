namespace LlavaUhd.Edge.Core.Prompting;

/// <summary>A run of visual placeholder positions in the prompt and the view whose features fill it.</summary>
public readonly record struct VisualSpan(int Start, int Count, int View);
