namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>The slicing algorithms of the LLaVA-UHD family (docs/slicing.md).</summary>
public enum SliceScheme
{
    /// <summary>MiniCPM-V / later LLaVA-UHD slicing: area-fitted overview plus a grid of patch-aligned slices.</summary>
    MiniCpmV,

    /// <summary>Idefics3 / SmolVLM tiling: resize to the longest edge, stretch to tile multiples, square tiles plus a global image.</summary>
    Idefics3,

    /// <summary>The original LLaVA-UHD release: at most 6 slices cut from the original, each resized to an adaptive patch grid.</summary>
    LlavaUhdV1,
}
