namespace LlavaUhd.Edge.Core.Slicing;

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
