using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Schema;

namespace LlavaUhd.Edge.Inference.Models.Families;

/// <summary>
/// LLaVA-UHD / MiniCPM-V: four sessions, adaptive slices plus an overview at native resolution, one encoder call per
/// view size (<c>pixel_values [B, 3, H, W]</c> with bucketed <c>patch_position_ids</c>) and a perceiver resampler per
/// view, the MiniCPM-V 2.6 template and schema.
/// </summary>
public sealed class MiniCpmVFamily : ModelFamily
{
    public override string Name => ModelFamilies.MiniCpmV;

    public override IReadOnlyList<SessionContract> Contracts => ModelContracts.MiniCpmV;

    public override PromptTemplate Template => PromptTemplate.MiniCpmV26;

    public override PromptTemplate TextOnlyTemplate => PromptTemplate.MiniCpmV26;

    public override SchemaLayout SchemaLayout => SchemaLayout.MiniCpmV26;

    public override TensorLayout EncoderLayout => TensorLayout.PerView;

    public override string ImagePlaceholder => "<unk>";

    /// <summary>The MiniCPM-V special tokens (image and slice brackets, <c>&lt;unk&gt;</c> as the image placeholder).</summary>
    public override IReadOnlyList<string> SpecialTokens { get; } =
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>", "<image>", "</image>", "<slice>", "</slice>"];

    public override void AddVisionProfile(ModelManifest manifest, int maxViews, Action<string, long[], long[], long[]> add) =>
        AddPerViewProfile(manifest, add);

    /// <summary>One view per call: a patch, the package's S × S, and the largest slice batch of 2S × 2S views.</summary>
    internal static void AddPerViewProfile(ModelManifest manifest, Action<string, long[], long[], long[]> add)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(add);
        int scale = manifest.Slicing.ScaleResolution;
        int p = manifest.Dimensions.PatchSize;
        int big = 2 * scale;
        add("pixel_values", [1, 3, p, p], [1, 3, scale, scale], [manifest.Slicing.MaxSlices, 3, big, big]);
        add("patch_position_ids", [1, 1], [1, (scale / p) * (scale / p)], [manifest.Slicing.MaxSlices, (big / p) * (big / p)]);
    }
}
