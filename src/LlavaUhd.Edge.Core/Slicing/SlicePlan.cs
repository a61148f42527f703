using System.Collections.Immutable;

namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>
/// How one image (or region) of a given size is cut into encoder views: an immutable value computed from sizes
/// alone by <see cref="SlicePlanner"/>. The pixel path executes <see cref="Stages"/>; the prompt assembler lays out
/// <see cref="Views"/> with a spatial schema.
/// </summary>
public sealed class SlicePlan
{
    internal SlicePlan(
        SlicingOptions options,
        PixelSize original,
        PixelSize planned,
        PixelSize overview,
        PixelSize? refined,
        GridSize? grid,
        PixelSize? sliceSize,
        ImmutableArray<PlanStage> stages,
        ImmutableArray<SliceView> views,
        ImmutableArray<string> notes)
    {
        Options = options;
        Original = original;
        Planned = planned;
        Overview = overview;
        Refined = refined;
        Grid = grid;
        SliceSize = sliceSize;
        Stages = stages;
        Views = views;
        Notes = notes;
        TotalTokens = views.Sum(v => v.Tokens);
    }

    public SlicingOptions Options { get; }

    public SliceScheme Scheme => Options.Scheme;

    /// <summary>The region's native size.</summary>
    public PixelSize Original { get; }

    /// <summary>The size the algorithm ran on: <see cref="Original"/>, or the padded canvas when the aspect guard acted.</summary>
    public PixelSize Planned { get; }

    /// <summary>minicpmv / v1: the overview size; idefics3: the global image size (tile × tile).</summary>
    public PixelSize Overview { get; }

    /// <summary>minicpmv: the refined (to-be-cut) size; idefics3: the stretched tile-multiple size; v1 / unsliced: null.</summary>
    public PixelSize? Refined { get; }

    /// <summary>Columns × rows of slices, or null when the image is not sliced.</summary>
    public GridSize? Grid { get; }

    /// <summary>The nominal slice size (before any overlap), or null when the image is not sliced.</summary>
    public PixelSize? SliceSize { get; }

    /// <summary>Every image the pixel path makes, inputs before the stages that read them.</summary>
    public ImmutableArray<PlanStage> Stages { get; }

    /// <summary>Encoder inputs in encoder order.</summary>
    public ImmutableArray<SliceView> Views { get; }

    /// <summary>Messages from guards that changed the plan (empty for a reference plan).</summary>
    public ImmutableArray<string> Notes { get; }

    public int TotalTokens { get; }

    public bool IsSliced => Grid is not null;

    /// <summary>The slices in row-major order (empty when not sliced).</summary>
    public IEnumerable<SliceView> Slices => Views.Where(v => v.Kind == ViewKind.Slice);

    /// <summary>The overview (minicpmv, v1) or global (idefics3) view.</summary>
    public SliceView OverviewView => Views.First(v => v.Kind != ViewKind.Slice);

    public PlanStage StageOf(SliceView view) => Stages[view.Stage];

    public override string ToString() =>
        $"{Scheme.ToName()} {Original}: grid {Grid?.ToString() ?? "none"}, overview {Overview}, {Views.Length} views, {TotalTokens} tokens";
}
