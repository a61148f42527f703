using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Schema;

namespace LlavaUhd.Edge.Inference.Models.Families;

/// <summary>
/// LLaVA-UHD-style models built on the SmolVLM text side (docs/llava-uhd.md): the MiniCPM-V family's four sessions and
/// visual path (adaptive slices plus an overview at native resolution, one encoder call per view size, a perceiver
/// resampler per view), with the real SmolVLM tokenizer and chat template and LLaVA-UHD's spatial schema (slices of a
/// row joined by ",", rows by "\n", then the overview; <c>&lt;image&gt;</c> placeholders). A model of this family and a
/// SmolVLM one can share a decoder's size and tokenizer, so that only the visual encoding differs.
/// </summary>
public sealed class LlavaUhdFamily : ModelFamily
{
    public override string Name => ModelFamilies.LlavaUhd;

    public override IReadOnlyList<SessionContract> Contracts => ModelContracts.MiniCpmV;

    public override PromptTemplate Template => PromptTemplate.SmolVlm;

    public override PromptTemplate TextOnlyTemplate => PromptTemplate.SmolVlmTextOnly;

    public override SchemaLayout SchemaLayout => SchemaLayout.LlavaUhdV1;

    public override TensorLayout EncoderLayout => TensorLayout.PerView;

    public override string ImagePlaceholder => "<image>";

    public override IReadOnlyList<string> SpecialTokens => SmolVlmFamily.Tokens;

    public override void AddVisionProfile(ModelManifest manifest, int maxViews, Action<string, long[], long[], long[]> add) =>
        MiniCpmVFamily.AddPerViewProfile(manifest, add);
}
