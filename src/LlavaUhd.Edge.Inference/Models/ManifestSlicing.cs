using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Inference.Models;

/// <summary>The slicing scheme and its parameters (names as in <see cref="SlicingOptions"/>).</summary>
public sealed class ManifestSlicing
{
    public required string Scheme { get; init; }

    public int MaxSlices { get; init; }

    public int ScaleResolution { get; init; }

    public int PatchSize { get; init; }

    public int LongestEdge { get; init; }

    public int TileSize { get; init; }

    public int TokensPerView { get; init; }

    public SlicingOptions ToSlicingOptions()
    {
        if (!SliceSchemeNames.TryParse(Scheme, out SliceScheme scheme))
        {
            throw new Errors.ModelPackageException(ModelManifest.FileName, $"unknown slicing scheme '{Scheme}'");
        }

        SlicingOptions defaults = SlicingOptions.For(scheme);
        return defaults with
        {
            MaxSlices = MaxSlices > 0 ? MaxSlices : defaults.MaxSlices,
            ScaleResolution = ScaleResolution > 0 ? ScaleResolution : defaults.ScaleResolution,
            PatchSize = PatchSize > 0 ? PatchSize : defaults.PatchSize,
            LongestEdge = LongestEdge > 0 ? LongestEdge : defaults.LongestEdge,
            TileSize = TileSize > 0 ? TileSize : defaults.TileSize,
            TokensPerView = TokensPerView > 0 ? TokensPerView : defaults.TokensPerView,
        };
    }
}
