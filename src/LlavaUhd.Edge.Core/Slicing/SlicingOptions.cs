using System.Globalization;

namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>
/// Parameters of a slicing scheme. Immutable; <see cref="For(SliceScheme)"/> gives each scheme's reference
/// defaults. The mitigations (<see cref="Overlap"/>, <see cref="PreserveAspect"/>, <see cref="MaxAspectRatio"/>)
/// are off by default so that the default plan is bit-exact with the reference processors.
/// </summary>
public sealed record SlicingOptions
{
    /// <summary>The largest image side the planner accepts.</summary>
    public const int MaxDimension = 65_535;

    public SliceScheme Scheme { get; init; } = SliceScheme.MiniCpmV;

    /// <summary>minicpmv / llava-uhd-v1: the most slices (9 for MiniCPM-V, 6 for LLaVA-UHD v1).</summary>
    public int MaxSlices { get; init; } = 9;

    /// <summary>minicpmv / llava-uhd-v1: the encoder's native side S (448 for MiniCPM-V, 336 for LLaVA-UHD v1).</summary>
    public int ScaleResolution { get; init; } = 448;

    /// <summary>The vision encoder's patch size (14 for MiniCPM-V and CLIP-L/14, 16 for SmolVLM's SigLIP).</summary>
    public int PatchSize { get; init; } = 14;

    /// <summary>idefics3: <c>size.longest_edge</c> (2048 for SmolVLM-256M/500M).</summary>
    public int LongestEdge { get; init; } = 2048;

    /// <summary>idefics3: <c>max_image_size.longest_edge</c>, the square tile side (512 for SmolVLM).</summary>
    public int TileSize { get; init; } = 512;

    /// <summary>Visual tokens each view contributes after compression (resampler queries or pixel-shuffled tokens).</summary>
    public int TokensPerView { get; init; } = 64;

    /// <summary>
    /// Mitigation: slices overlap their neighbours by this fraction of a slice (0 = off, e.g. 0.1 = 10 %), so
    /// that objects on a seam appear whole in at least one slice. Must be in [0, 0.5).
    /// </summary>
    public double Overlap { get; init; }

    /// <summary>
    /// Mitigation: resize keeping the aspect ratio and pad (with a padding mask) instead of stretching to the
    /// planned size. Off by default (the reference stretches).
    /// </summary>
    public bool PreserveAspect { get; init; }

    /// <summary>
    /// Guard: when the image's long/short side ratio exceeds this value, plan as if the short side were padded up
    /// to this ratio (the plan's <see cref="SlicePlan.Notes"/> says so). <c>null</c> (default) keeps the
    /// reference behaviour, e.g. 1×8192 → a single 14×40544 view for minicpmv.
    /// </summary>
    public double? MaxAspectRatio { get; init; }

    /// <summary>llava-uhd-v1: resize every view to the adaptive size of the whole image, as the released code does
    /// (true, default), or each slice to its own adaptive size, as the paper describes (false).</summary>
    public bool V1WholeImageAdaptSize { get; init; } = true;

    /// <summary>The reference defaults of a scheme: MiniCPM-V 2.6 (9, 448, 14, 64), SmolVLM-256M (2048, 512, 16, 64),
    /// LLaVA-UHD v1 (6, 336, 14, 64).</summary>
    public static SlicingOptions For(SliceScheme scheme) => scheme switch
    {
        SliceScheme.MiniCpmV => new SlicingOptions { Scheme = scheme, MaxSlices = 9, ScaleResolution = 448, PatchSize = 14, TokensPerView = 64 },
        SliceScheme.Idefics3 => new SlicingOptions { Scheme = scheme, LongestEdge = 2048, TileSize = 512, PatchSize = 16, TokensPerView = 64 },
        SliceScheme.LlavaUhdV1 => new SlicingOptions { Scheme = scheme, MaxSlices = 6, ScaleResolution = 336, PatchSize = 14, TokensPerView = 64 },
        _ => throw new SlicingException(nameof(scheme), $"Unknown slicing scheme {scheme}."),
    };

    /// <summary>The filter the scheme's reference processor resizes with (MiniCPM-V: BICUBIC, Idefics3: LANCZOS, v1: BILINEAR).</summary>
    public ResampleFilter Filter => Scheme switch
    {
        SliceScheme.Idefics3 => ResampleFilter.Lanczos,
        SliceScheme.LlavaUhdV1 => ResampleFilter.Bilinear,
        _ => ResampleFilter.Bicubic,
    };

    /// <summary>Throws <see cref="SlicingException"/> naming the first parameter that is out of range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Scheme))
        {
            throw new SlicingException("scheme", $"Unknown slicing scheme {Scheme}.");
        }

        Require(PatchSize is >= 1 and <= 128, "patchSize", PatchSize, "between 1 and 128");
        Require(TokensPerView is >= 1 and <= 65_536, "tokensPerView", TokensPerView, "between 1 and 65536");
        Require(Overlap is >= 0 and < 0.5 && double.IsFinite(Overlap), "overlap", Overlap, "a fraction in [0, 0.5)");
        if (MaxAspectRatio is double guard)
        {
            Require(guard >= 1 && double.IsFinite(guard), "maxAspectRatio", guard, "at least 1");
        }

        switch (Scheme)
        {
            case SliceScheme.MiniCpmV:
            case SliceScheme.LlavaUhdV1:
                Require(MaxSlices is >= 1 and <= 64, "maxSlices", MaxSlices, "between 1 and 64");
                Require(ScaleResolution >= PatchSize && ScaleResolution <= 8192, "scaleResolution", ScaleResolution, $"between the patch size ({PatchSize}) and 8192");
                break;
            case SliceScheme.Idefics3:
                Require(TileSize >= PatchSize && TileSize <= 4096, "tileSize", TileSize, $"between the patch size ({PatchSize}) and 4096");
                Require(TileSize % PatchSize == 0, "tileSize", TileSize, $"a multiple of the patch size ({PatchSize})");
                Require(LongestEdge is >= 1 and <= 16_384, "longestEdge", LongestEdge, "between 1 and 16384");
                break;
        }
    }

    private static void Require(bool ok, string name, double value, string expectation)
    {
        if (!ok)
        {
            throw new SlicingException(
                name,
                string.Create(CultureInfo.InvariantCulture, $"{name} = {value} is invalid: it must be {expectation}."));
        }
    }
}
