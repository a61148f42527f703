using System.Collections.Immutable;

namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>What a view is to the model.</summary>
public enum ViewKind
{
    /// <summary>The low-resolution image of the whole region (MiniCPM-V, LLaVA-UHD v1).</summary>
    Overview,

    /// <summary>A slice (MiniCPM-V, LLaVA-UHD v1) or tile (Idefics3) at row <see cref="SliceView.Row"/>, column <see cref="SliceView.Column"/>.</summary>
    Slice,

    /// <summary>The Idefics3 global image, appended after the tiles.</summary>
    Global,
}

/// <summary>
/// One image the pixel path makes: crop <see cref="Source"/> from the <see cref="Input"/> image (the region itself
/// when <see cref="Input"/> is <see cref="RegionInput"/>), resize it to <see cref="Content"/>'s size with
/// <see cref="Filter"/> (skipped when the sizes are equal) and place it at <see cref="Content"/> on a canvas of
/// <see cref="Size"/>; pixels outside <see cref="Content"/> are padding. <see cref="Valid"/> is the part of the canvas
/// that holds image pixels rather than padding (the padding mask's true area).
/// </summary>
public sealed record PlanStage(
    int Index,
    string Name,
    int Input,
    PixelRect Source,
    PixelSize Size,
    PixelRect Content,
    PixelRect Valid,
    ResampleFilter Filter)
{
    /// <summary>The <see cref="Input"/> value that means "the region being planned".</summary>
    public const int RegionInput = -1;

    /// <summary>True when the stage resamples (the crop and the content differ in size).</summary>
    public bool Resamples => Source.Width != Content.Width || Source.Height != Content.Height;

    /// <summary>True when part of the canvas is padding.</summary>
    public bool HasPadding => Content != PixelRect.FromSize(Size) || Valid != PixelRect.FromSize(Size);
}

/// <summary>An encoder input: one stage's image, its place in the grid and the tokens it becomes.</summary>
/// <param name="Index">Position in encoder order (0-based).</param>
/// <param name="Kind">Overview, slice or global image.</param>
/// <param name="Row">Slice row (0-based), or -1 for overview/global.</param>
/// <param name="Column">Slice column (0-based), or -1 for overview/global.</param>
/// <param name="Stage">Index into <see cref="SlicePlan.Stages"/> of the image this view is.</param>
/// <param name="Size">The encoder input size (width × height).</param>
/// <param name="Valid">The part of the view holding image pixels (the rest is padding).</param>
/// <param name="Tokens">Visual tokens this view contributes after compression.</param>
/// <param name="Footprint">The rectangle of the region (in its native pixels) the view shows.</param>
public sealed record SliceView(
    int Index,
    ViewKind Kind,
    int Row,
    int Column,
    int Stage,
    PixelSize Size,
    PixelRect Valid,
    int Tokens,
    PixelRect Footprint)
{
    public string Name => Kind switch
    {
        ViewKind.Slice => $"slice_r{Row}_c{Column}",
        ViewKind.Global => "global",
        _ => "overview",
    };
}

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
