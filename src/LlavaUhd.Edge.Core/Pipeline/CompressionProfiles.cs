using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Pipeline;

public static class CompressionProfiles
{
    public static IReadOnlyList<string> Names { get; } = ["fast", "balanced", "detail", "ocr", "native"];

    public static string ToName(this CompressionProfile profile) => profile.ToString().ToLowerInvariant();

    public static bool TryParse(string? name, out CompressionProfile profile) =>
        Enum.TryParse(name, ignoreCase: true, out profile) && Enum.IsDefined(profile);

    /// <summary>
    /// The slicing options of <paramref name="profile"/> for a region of <paramref name="region"/> pixels, derived
    /// from the model's reference options <paramref name="detail"/>.
    /// </summary>
    public static SlicingOptions Apply(this CompressionProfile profile, SlicingOptions detail, PixelSize region)
    {
        ArgumentNullException.ThrowIfNull(detail);
        bool idefics = detail.Scheme == SliceScheme.Idefics3;
        int tile = detail.TileSize;
        return profile switch
        {
            CompressionProfile.Fast => idefics ? detail with { LongestEdge = tile } : detail with { MaxSlices = 1 },
            CompressionProfile.Balanced => idefics
                ? detail with { LongestEdge = Math.Min(detail.LongestEdge, 2 * tile) }
                : detail with { MaxSlices = Math.Min(detail.MaxSlices, 4) },
            CompressionProfile.Ocr => detail with { PreserveAspect = true },
            CompressionProfile.Native => idefics
                ? detail with { LongestEdge = Math.Clamp(CeilTo(Math.Max(region.Width, region.Height), tile), tile, detail.LongestEdge) }
                : detail with { MaxSlices = Math.Clamp((int)Math.Ceiling((double)region.Area / ((double)detail.ScaleResolution * detail.ScaleResolution)), 1, detail.MaxSlices) },
            _ => detail,
        };
    }

    private static int CeilTo(int value, int unit) => (value + unit - 1) / unit * unit;
}
