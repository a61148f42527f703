using System.Collections.Immutable;

namespace LlavaUhd.Edge.Core.Prompting;

/// <summary>The token ids of a prompt and where the visual features go.</summary>
public sealed class AssembledPrompt
{
    internal AssembledPrompt(int[] ids, ImmutableArray<VisualSpan> spans)
    {
        Ids = ids;
        Spans = spans;
        VisualTokenCount = spans.Sum(s => s.Count);
    }

    public IReadOnlyList<int> Ids { get; }

    /// <summary>Placeholder runs in prompt order (the order features are written in).</summary>
    public ImmutableArray<VisualSpan> Spans { get; }

    public int VisualTokenCount { get; }

    public int Length => Ids.Count;
}
