namespace LlavaUhd.Edge.Inference.Models;

/// <summary>
/// The I/O contracts of each family, as documented in <c>models-quantized/README.md</c>. The SmolVLM one is the public
/// export's, exactly (docs/smolvlm.md §3); generated test models are built to the same table.
/// </summary>
public static class ModelContracts
{
    /// <summary>
    /// Model metadata of the CPU decoder form (docs/cpu-decoder.md): the longest context its rotary tables cover, the
    /// largest KV buffer the runtime may bind.
    /// </summary>
    public const string MaxContextMetadataKey = "llava_edge.max_context";

    private static readonly SessionContract s_embed = new(
        SessionNames.EmbedTokens,
        [new("input_ids", TensorDTypes.Int64, 2)],
        [new("inputs_embeds", TensorDTypes.AnyFloat, 3)]);

    private static readonly SessionContract s_decoder = new(
        SessionNames.Decoder,
        [
            new("inputs_embeds", TensorDTypes.AnyFloat, 3),

            // the standard form (the public export's) has a mask and positions; the CPU form
            // (docs/cpu-decoder.md) has the fused attention's sequence lengths instead — one of the two, whole
            new("attention_mask", TensorDTypes.Int64, 2, Optional: true),
            new("position_ids", TensorDTypes.Int64, 2, Optional: true),
            new("seqlens_k", TensorDTypes.Int32, 1, Optional: true),
            new("total_sequence_length", TensorDTypes.Int32, 0, Optional: true),
            new("past_key_values.{i}.key", TensorDTypes.AnyFloat, 4),
            new("past_key_values.{i}.value", TensorDTypes.AnyFloat, 4),
            new("num_logits_to_keep", TensorDTypes.Int64, 0, Optional: true),
            new("use_cache_branch", TensorDTypes.Bool, 1, Optional: true),
        ],
        [
            new("logits", TensorDTypes.AnyFloat, 3),
            new("present.{i}.key", TensorDTypes.AnyFloat, 4),
            new("present.{i}.value", TensorDTypes.AnyFloat, 4),
        ])
    {
        InputForms = [["attention_mask", "position_ids"], ["seqlens_k", "total_sequence_length"]],
    };

    /// <summary>SmolVLM: <c>pixel_values [batch, num_images, 3, S, S]</c> + <c>pixel_attention_mask</c> → <c>image_features [num_images, 64, hidden]</c>.</summary>
    public static IReadOnlyList<SessionContract> SmolVlm { get; } =
    [
        new(
            SessionNames.VisionEncoder,
            [new("pixel_values", TensorDTypes.AnyFloat, 5), new("pixel_attention_mask", TensorDTypes.Bool, 4)],
            [new("image_features", TensorDTypes.AnyFloat, 3)]),
        s_embed,
        s_decoder,
    ];

    /// <summary>
    /// MiniCPM-V style: the encoder takes one view of any patch-aligned size <c>pixel_values [batch, 3, H, W]</c> with its
    /// bucketed <c>patch_position_ids [batch, (H/p)·(W/p)]</c> and returns <c>vision_features [batch, patches, vision_hidden]</c>;
    /// the resampler compresses them to <c>image_features [batch, queries, hidden]</c>.
    /// </summary>
    public static IReadOnlyList<SessionContract> MiniCpmV { get; } =
    [
        new(
            SessionNames.VisionEncoder,
            [new("pixel_values", TensorDTypes.AnyFloat, 4), new("patch_position_ids", TensorDTypes.Int64, 2)],
            [new("vision_features", TensorDTypes.AnyFloat, 3)]),
        new(
            SessionNames.Resampler,
            [new("vision_features", TensorDTypes.AnyFloat, 3)],
            [new("image_features", TensorDTypes.AnyFloat, 3)]),
        s_embed,
        s_decoder,
    ];

    public static IReadOnlyList<SessionContract> For(string family) => Families.ModelFamily.Get(family).Contracts;

    /// <summary>The optional decoder inputs that some exports have and the runtime must feed when present.</summary>
    public static IReadOnlyList<string> OptionalInputNames { get; } = ["num_logits_to_keep", "use_cache_branch"];
}
