using System.CommandLine;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>The plan options shared by every verb that slices (plan, slices, preprocess, ask).</summary>
internal sealed class SlicingArguments
{
    public Option<string> Scheme { get; } = new("--scheme")
    {
        Description = "Slicing scheme: minicpmv, idefics3 or llava-uhd-v1.",
        Required = true,
    };

    public Option<int?> MaxSlices { get; } = new("--max-slices") { Description = "minicpmv/llava-uhd-v1: most slices (default 9 / 6)." };

    public Option<int?> ScaleResolution { get; } = new("--scale-resolution") { Description = "minicpmv/llava-uhd-v1: encoder side S (default 448 / 336)." };

    public Option<int?> PatchSize { get; } = new("--patch-size") { Description = "Encoder patch size (default 14, idefics3 16)." };

    public Option<int?> LongestEdge { get; } = new("--longest-edge") { Description = "idefics3: size.longest_edge (default 2048)." };

    public Option<int?> Tile { get; } = new("--tile") { Description = "idefics3: tile side, max_image_size.longest_edge (default 512)." };

    public Option<int?> TokensPerView { get; } = new("--tokens-per-view") { Description = "Visual tokens per view after compression (default 64)." };

    public Option<double?> Overlap { get; } = new("--overlap") { Description = "Mitigation: slice overlap as a fraction of a slice, e.g. 0.1 (default 0, off)." };

    public Option<bool> Pad { get; } = new("--pad") { Description = "Mitigation: keep the aspect ratio and pad instead of stretching (default off)." };

    public Option<double?> MaxAspect { get; } = new("--max-aspect") { Description = "Guard: pad images whose long/short ratio exceeds this before planning (default off)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Scheme);
        command.Options.Add(MaxSlices);
        command.Options.Add(ScaleResolution);
        command.Options.Add(PatchSize);
        command.Options.Add(LongestEdge);
        command.Options.Add(Tile);
        command.Options.Add(TokensPerView);
        command.Options.Add(Overlap);
        command.Options.Add(Pad);
        command.Options.Add(MaxAspect);
    }

    /// <summary>The scheme's defaults overridden by whatever was given; validated.</summary>
    public SlicingOptions Bind(ParseResult result)
    {
        SliceScheme scheme = SliceSchemeNames.Parse(result.GetValue(Scheme));
        SlicingOptions o = SlicingOptions.For(scheme);
        o = o with
        {
            MaxSlices = result.GetValue(MaxSlices) ?? o.MaxSlices,
            ScaleResolution = result.GetValue(ScaleResolution) ?? o.ScaleResolution,
            PatchSize = result.GetValue(PatchSize) ?? o.PatchSize,
            LongestEdge = result.GetValue(LongestEdge) ?? o.LongestEdge,
            TileSize = result.GetValue(Tile) ?? o.TileSize,
            TokensPerView = result.GetValue(TokensPerView) ?? o.TokensPerView,
            Overlap = result.GetValue(Overlap) ?? o.Overlap,
            PreserveAspect = result.GetValue(Pad),
            MaxAspectRatio = result.GetValue(MaxAspect),
        };
        o.Validate();
        return o;
    }
}
