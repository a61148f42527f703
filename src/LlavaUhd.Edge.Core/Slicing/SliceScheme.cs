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

/// <summary>Pillow's resampling filters (the numbers are Pillow's <c>Image.Resampling</c> values).</summary>
public enum ResampleFilter
{
    Nearest = 0,
    Lanczos = 1,
    Bilinear = 2,
    Bicubic = 3,
    Box = 4,
    Hamming = 5,
}

public static class SliceSchemeNames
{
    public const string MiniCpmV = "minicpmv";
    public const string Idefics3 = "idefics3";
    public const string LlavaUhdV1 = "llava-uhd-v1";

    public static IReadOnlyList<string> All { get; } = [MiniCpmV, Idefics3, LlavaUhdV1];

    public static string ToName(this SliceScheme scheme) => scheme switch
    {
        SliceScheme.MiniCpmV => MiniCpmV,
        SliceScheme.Idefics3 => Idefics3,
        SliceScheme.LlavaUhdV1 => LlavaUhdV1,
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Unknown slice scheme."),
    };

    public static bool TryParse(string? name, out SliceScheme scheme)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case MiniCpmV or "minicpm-v" or "llava-uhd":
                scheme = SliceScheme.MiniCpmV;
                return true;
            case Idefics3 or "smolvlm":
                scheme = SliceScheme.Idefics3;
                return true;
            case LlavaUhdV1 or "llava-uhd-v1.0" or "v1":
                scheme = SliceScheme.LlavaUhdV1;
                return true;
            default:
                scheme = default;
                return false;
        }
    }

    public static SliceScheme Parse(string? name) =>
        TryParse(name, out SliceScheme scheme)
            ? scheme
            : throw new SlicingException(
                "scheme",
                $"Unknown slicing scheme '{name}'. Expected one of: {string.Join(", ", All)}.");
}
