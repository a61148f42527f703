namespace LlavaUhd.Edge.Core.Pipeline;

public sealed record TokenCounts(int Visual, int VisualKept, int Prompt, int Generated);
