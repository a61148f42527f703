using System.Collections.Immutable;
using System.Text;

namespace LlavaUhd.Edge.Core.Schema;

/// <summary>The image part of a prompt as segments, in prompt order.</summary>
public sealed class PromptLayout
{
    internal PromptLayout(SchemaLayout layout, string placeholderToken, ImmutableArray<PromptSegment> segments)
    {
        Layout = layout;
        PlaceholderToken = placeholderToken;
        Segments = segments;
        PlaceholderCount = segments.Where(s => s.IsPlaceholder).Sum(s => s.Count);
    }

    public SchemaLayout Layout { get; }

    /// <summary>The token each visual token position is written as (<c>&lt;unk&gt;</c> for MiniCPM-V, <c>&lt;image&gt;</c> otherwise).</summary>
    public string PlaceholderToken { get; }

    public ImmutableArray<PromptSegment> Segments { get; }

    /// <summary>Total placeholder positions: equals the plan's total visual tokens.</summary>
    public int PlaceholderCount { get; }

    /// <summary>The order in which views' features fill the placeholders.</summary>
    public IEnumerable<int> ViewOrder => Segments.Where(s => s.IsPlaceholder).Select(s => s.View);

    /// <summary>The layout as text, each placeholder written as <see cref="PlaceholderToken"/>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (PromptSegment s in Segments)
        {
            if (s.IsPlaceholder)
            {
                for (int i = 0; i < s.Count; i++)
                {
                    sb.Append(PlaceholderToken);
                }
            }
            else
            {
                sb.Append(s.Text);
            }
        }

        return sb.ToString();
    }
}
