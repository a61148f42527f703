using System.Collections.Immutable;
using System.Globalization;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Schema;

/// <summary>Lays out a <see cref="SlicePlan"/>'s views as the prompt text each model family expects.</summary>
public static class SpatialSchema
{
    public static SchemaLayout DefaultFor(SliceScheme scheme) => scheme switch
    {
        SliceScheme.Idefics3 => SchemaLayout.Idefics3,
        SliceScheme.LlavaUhdV1 => SchemaLayout.LlavaUhdV1,
        _ => SchemaLayout.MiniCpmV26,
    };

    public static string DefaultPlaceholder(SchemaLayout layout) =>
        layout is SchemaLayout.MiniCpmV26 or SchemaLayout.MiniCpmV25 ? "<unk>" : "<image>";

    /// <summary>Builds the layout for <paramref name="plan"/>.</summary>
    /// <param name="plan">The plan whose views are laid out.</param>
    /// <param name="layout">The family's layout.</param>
    /// <param name="imageId">MiniCPM-V 2.6: the 0-based image index written as <c>&lt;image_id&gt;k&lt;/image_id&gt;</c>, or null to omit it.</param>
    /// <param name="placeholderToken">Overrides the family's placeholder token.</param>
    /// <param name="tokensPerView">Placeholders per view (by view index) when they differ from the plan's, e.g. after token pruning.</param>
    public static PromptLayout Build(
        SlicePlan plan, SchemaLayout layout, int? imageId = null, string? placeholderToken = null, IReadOnlyList<int>? tokensPerView = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (tokensPerView is not null && tokensPerView.Count != plan.Views.Length)
        {
            throw new ArgumentException($"tokensPerView has {tokensPerView.Count} entries for {plan.Views.Length} views.", nameof(tokensPerView));
        }

        void Place(ImmutableArray<PromptSegment>.Builder seg, SliceView view) =>
            seg.Add(PromptSegment.Placeholders(view.Index, tokensPerView?[view.Index] ?? view.Tokens));

        void Wrap(ImmutableArray<PromptSegment>.Builder seg, string open, SliceView view, string close)
        {
            seg.Add(PromptSegment.Literal(open));
            Place(seg, view);
            seg.Add(PromptSegment.Literal(close));
        }

        var seg = ImmutableArray.CreateBuilder<PromptSegment>();
        SliceView overview = plan.OverviewView;
        GridSize? grid = plan.Grid;

        switch (layout)
        {
            case SchemaLayout.MiniCpmV26:
                if (imageId is int id)
                {
                    seg.Add(PromptSegment.Literal(string.Create(CultureInfo.InvariantCulture, $"<image_id>{id}</image_id>")));
                }

                Wrap(seg, "<image>", overview, "</image>");
                if (grid is GridSize g26)
                {
                    for (int r = 0; r < g26.Rows; r++)
                    {
                        if (r > 0)
                        {
                            seg.Add(PromptSegment.Literal("\n"));
                        }

                        for (int c = 0; c < g26.Columns; c++)
                        {
                            Wrap(seg, "<slice>", SliceAt(plan, r, c), "</slice>");
                        }
                    }
                }

                break;

            case SchemaLayout.MiniCpmV25:
                Wrap(seg, "<image>", overview, "</image>");
                if (grid is GridSize g25)
                {
                    seg.Add(PromptSegment.Literal("<slice>"));
                    for (int r = 0; r < g25.Rows; r++)
                    {
                        if (r > 0)
                        {
                            seg.Add(PromptSegment.Literal("\n"));
                        }

                        for (int c = 0; c < g25.Columns; c++)
                        {
                            Wrap(seg, "<image>", SliceAt(plan, r, c), "</image>");
                        }
                    }

                    seg.Add(PromptSegment.Literal("</slice>"));
                }

                break;

            case SchemaLayout.Idefics3:
                if (grid is GridSize gi)
                {
                    for (int r = 0; r < gi.Rows; r++)
                    {
                        for (int c = 0; c < gi.Columns; c++)
                        {
                            seg.Add(PromptSegment.Literal(string.Create(CultureInfo.InvariantCulture, $"<fake_token_around_image><row_{r + 1}_col_{c + 1}>")));
                            Place(seg, SliceAt(plan, r, c));
                        }

                        seg.Add(PromptSegment.Literal("\n"));
                    }

                    seg.Add(PromptSegment.Literal("\n<fake_token_around_image><global-img>"));
                }
                else
                {
                    seg.Add(PromptSegment.Literal("<fake_token_around_image><global-img>"));
                }

                Place(seg, overview);
                seg.Add(PromptSegment.Literal("<fake_token_around_image>"));
                break;

            case SchemaLayout.LlavaUhdV1:
                if (grid is GridSize g1)
                {
                    for (int r = 0; r < g1.Rows; r++)
                    {
                        for (int c = 0; c < g1.Columns; c++)
                        {
                            Place(seg, SliceAt(plan, r, c));
                            seg.Add(PromptSegment.Literal(c < g1.Columns - 1 ? "," : "\n"));
                        }
                    }
                }

                Place(seg, overview);
                break;

            default:
                throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown schema layout.");
        }

        return new PromptLayout(layout, placeholderToken ?? DefaultPlaceholder(layout), Merge(seg));
    }

    public static PromptLayout Build(SlicePlan plan) => Build(plan, DefaultFor(plan.Scheme));

    private static SliceView SliceAt(SlicePlan plan, int row, int column) =>
        plan.Views.First(v => v.Kind == ViewKind.Slice && v.Row == row && v.Column == column);

    /// <summary>Joins adjacent literal segments so that every placeholder run is separated by exactly one literal.</summary>
    private static ImmutableArray<PromptSegment> Merge(ImmutableArray<PromptSegment>.Builder seg)
    {
        var merged = ImmutableArray.CreateBuilder<PromptSegment>(seg.Count);
        foreach (PromptSegment s in seg)
        {
            if (!s.IsPlaceholder && merged.Count > 0 && !merged[^1].IsPlaceholder)
            {
                merged[^1] = PromptSegment.Literal(merged[^1].Text + s.Text);
            }
            else
            {
                merged.Add(s);
            }
        }

        return merged.ToImmutable();
    }
}
