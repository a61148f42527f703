using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Schema;

namespace LlavaUhd.Edge.Inference.Models.Families;

/// <summary>
/// SmolVLM / Idefics3 (docs/smolvlm.md): three sessions, Idefics3 tiling with a global view, the pixel-shuffle
/// connector inside the vision encoder, every tile of a request in one padded call
/// (<c>pixel_values [1, N, 3, S, S]</c> + <c>pixel_attention_mask</c>).
/// </summary>
public sealed class SmolVlmFamily : ModelFamily
{
    public override string Name => ModelFamilies.SmolVlm;

    public override IReadOnlyList<SessionContract> Contracts => ModelContracts.SmolVlm;

    public override PromptTemplate Template => PromptTemplate.SmolVlm;

    public override PromptTemplate TextOnlyTemplate => PromptTemplate.SmolVlmTextOnly;

    public override SchemaLayout SchemaLayout => SchemaLayout.Idefics3;

    public override TensorLayout EncoderLayout => TensorLayout.PaddedBatch;

    public override string ImagePlaceholder => "<image>";

    public override IReadOnlyList<string> SpecialTokens => Tokens;

    /// <summary>The SmolVLM special tokens the runtime uses (docs/smolvlm.md §5).</summary>
    internal static IReadOnlyList<string> Tokens { get; } =
    [
        "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<global-img>", "<fake_token_around_image>", "<image>", "<end_of_utterance>",
        .. Enumerable.Range(1, 6).SelectMany(r => Enumerable.Range(1, 6).Select(c => $"<row_{r}_col_{c}>")),
    ];

    public override void AddVisionProfile(ModelManifest manifest, int maxViews, Action<string, long[], long[], long[]> add)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(add);
        int s = manifest.Dimensions.ImageSize;
        add("pixel_values", [1, 1, 3, s, s], [1, 13, 3, s, s], [1, maxViews, 3, s, s]);
        add("pixel_attention_mask", [1, 1, s, s], [1, 13, s, s], [1, maxViews, s, s]);
    }
}
