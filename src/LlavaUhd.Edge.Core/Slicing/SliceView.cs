namespace LlavaUhd.Edge.Core.Slicing;

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
