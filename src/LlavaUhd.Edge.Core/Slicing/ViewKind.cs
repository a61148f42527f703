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
