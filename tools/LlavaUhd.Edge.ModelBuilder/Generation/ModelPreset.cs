using LlavaUhd.Edge.Inference.Models;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>Dimensions of a generated model. Weights are seeded random; everything else follows the family contract.</summary>
public sealed record ModelPreset
{
    public const string TinySmolVlm = "tiny-smolvlm";
    public const string TinyMiniCpmV = "tiny-minicpmv";
    public const string SmolVlm256MShape = "smolvlm-256m-shape";

    /// <summary>The LLaVA-UHD-style family (docs/llava-uhd.md) at test size: MiniCPM-V's visual path, SmolVLM's real tokenizer.</summary>
    public const string TinyLlavaUhd = "tiny-llava-uhd";

    /// <summary><see cref="TinyLlavaUhd"/> with progressive compression (tokens merged 2 × 2 before the second encoder layer) and 36 queries.</summary>
    public const string TinyLlavaUhdV3 = "tiny-llava-uhd-v3";

    /// <summary>The trained demo model (docs/demo-model.md): dimensions and weights from <see cref="DemoWeights"/>.</summary>
    public const string DemoSmolVlm = DemoWeights.SmolVlm;

    /// <summary>The trained LLaVA-UHD v1-style demo model (docs/llava-uhd.md): adaptive slices, a resampler per view.</summary>
    public const string DemoLlavaUhdV1 = "demo-llava-uhd-v1";

    /// <summary>The trained LLaVA-UHD v3-style demo model (docs/llava-uhd.md): v1 with progressive compression in the encoder.</summary>
    public const string DemoLlavaUhdV3 = "demo-llava-uhd-v3";

    public required string Name { get; init; }

    public required string Family { get; init; }

    // Vision tower (SigLIP-style ViT).
    public int VisionHidden { get; init; }

    public int VisionLayers { get; init; }

    public int VisionHeads { get; init; }

    public int VisionMlp { get; init; }

    /// <summary>The vision MLP's activation, by its Hugging Face name (<see cref="VisionActivations"/>): <c>gelu</c> (erf) or <c>gelu_pytorch_tanh</c>.</summary>
    public string VisionActivation { get; init; } = VisionActivations.Gelu;

    /// <summary>smolvlm: the tile side (512). minicpmv: the side the learned position grid was trained at.</summary>
    public int ImageSize { get; init; }

    public int PatchSize { get; init; }

    /// <summary>smolvlm: the pixel-shuffle factor (4).</summary>
    public int ScaleFactor { get; init; } = 4;

    /// <summary>minicpmv, llava-uhd: resampler queries (tokens per view).</summary>
    public int Queries { get; init; }

    /// <summary>minicpmv, llava-uhd: the slicing scale resolution.</summary>
    public int ScaleResolution { get; init; }

    /// <summary>minicpmv, llava-uhd: the most slices (<c>max_slice_nums</c>).</summary>
    public int MaxSlices { get; init; } = 9;

    /// <summary>
    /// llava-uhd: progressive compression (docs/llava-uhd.md) — the encoder merges its tokens window by window before
    /// this layer (1 … <see cref="VisionLayers"/> − 1); 0: no merging (LLaVA-UHD v1 style).
    /// </summary>
    public int MergeLayer { get; init; }

    /// <summary>The merge window's side in tokens (2: every 2 × 2 tokens become one).</summary>
    public int MergeWindow { get; init; } = 2;

    // Text decoder (Llama-style).
    public int TextHidden { get; init; }

    public int TextLayers { get; init; }

    public int TextHeads { get; init; }

    public int KeyValueHeads { get; init; }

    public int HeadDim { get; init; }

    public int TextMlp { get; init; }

    public int VocabSize { get; init; }

    public float RopeTheta { get; init; } = 100_000f;

    public int TokensPerView => Family == ModelFamilies.SmolVlm
        ? (ImageSize / PatchSize) * (ImageSize / PatchSize) / (ScaleFactor * ScaleFactor)
        : Queries;

    public static IReadOnlyList<string> Names { get; } = [TinySmolVlm, TinyMiniCpmV, TinyLlavaUhd, TinyLlavaUhdV3, SmolVlm256MShape, DemoSmolVlm, DemoLlavaUhdV1, DemoLlavaUhdV3];

    /// <summary>Trained weights that replace the seeded random ones (null: random weights).</summary>
    public TrainedWeights? Weights { get; init; }

    /// <summary>
    /// A preset with the family and dimensions the weights were trained with (<c>family</c> absent: smolvlm; the
    /// MiniCPM-V-style families also read <c>queries</c>, <c>scale_resolution</c> and <c>max_slices</c>, and llava-uhd the
    /// optional <c>merge_layer</c> and <c>merge_window</c> of progressive compression).
    /// </summary>
    public static ModelPreset FromWeights(string name, TrainedWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        System.Text.Json.JsonElement p = weights.Preset;
        System.Text.Json.JsonElement Need(string key) => p.TryGetProperty(key, out System.Text.Json.JsonElement v)
            ? v
            : throw new InvalidDataException($"weights.json: the preset has no '{key}'");
        int I(string key) => Need(key).GetInt32();
        int Optional(string key, int fallback) => p.TryGetProperty(key, out System.Text.Json.JsonElement v) ? v.GetInt32() : fallback;
        string family = p.TryGetProperty("family", out System.Text.Json.JsonElement f) ? f.GetString()! : ModelFamilies.SmolVlm;
        _ = Inference.Models.Families.ModelFamily.Get(family); // refuses a family the runtime does not know
        bool slices = family != ModelFamilies.SmolVlm;
        int Sliced(string key) => slices ? I(key) : 0;
        int mergeLayer = Optional("merge_layer", 0), mergeWindow = Optional("merge_window", 2);
        if (mergeLayer != 0 && (family != ModelFamilies.LlavaUhd || mergeLayer < 1 || mergeLayer >= I("vision_layers") || mergeWindow < 2))
        {
            throw new InvalidDataException($"weights.json: merge_layer {mergeLayer} (window {mergeWindow}) needs the llava-uhd family, a layer between 1 and vision_layers - 1 and a window of 2 or more");
        }

        return new ModelPreset
        {
            Name = name, Family = family, Weights = weights, MergeLayer = mergeLayer, MergeWindow = mergeWindow,
            Queries = Sliced("queries"), ScaleResolution = Sliced("scale_resolution"), MaxSlices = slices ? Sliced("max_slices") : 9,
            VisionHidden = I("vision_hidden"), VisionLayers = I("vision_layers"), VisionHeads = I("vision_heads"), VisionMlp = I("vision_mlp"),
            ImageSize = I("image_size"), PatchSize = I("patch_size"), ScaleFactor = Optional("scale_factor", 4),
            TextHidden = I("text_hidden"), TextLayers = I("text_layers"), TextHeads = I("text_heads"), KeyValueHeads = I("kv_heads"),
            HeadDim = I("head_dim"), TextMlp = I("text_mlp"), VocabSize = I("vocab_size"), RopeTheta = Need("rope_theta").GetSingle(),
            VisionActivation = p.TryGetProperty("vision_act", out System.Text.Json.JsonElement act) ? act.GetString()! : VisionActivations.Gelu,
        };
    }

    public static ModelPreset Get(string name) => name switch
    {
        // SmolVLM contract exactly (512 px tiles, patch 16, shuffle 4 → 64 tokens, real token ids, vocab 49 280), small widths.
        TinySmolVlm => new ModelPreset
        {
            Name = name, Family = ModelFamilies.SmolVlm,
            VisionHidden = 32, VisionLayers = 2, VisionHeads = 2, VisionMlp = 64, ImageSize = 512, PatchSize = 16, ScaleFactor = 4,
            TextHidden = 16, TextLayers = 2, TextHeads = 2, KeyValueHeads = 1, HeadDim = 8, TextMlp = 32, VocabSize = 49_280,
        },
        // Our MiniCPM-V-style contract: patch 14, views of 112 px (8×8 patches), 16×16 position grid, 16 queries, own 1 024 vocab.
        TinyMiniCpmV => new ModelPreset
        {
            Name = name, Family = ModelFamilies.MiniCpmV,
            VisionHidden = 32, VisionLayers = 2, VisionHeads = 2, VisionMlp = 64, ImageSize = 224, PatchSize = 14, Queries = 16, ScaleResolution = 112,
            TextHidden = 32, TextLayers = 2, TextHeads = 4, KeyValueHeads = 2, HeadDim = 8, TextMlp = 64, VocabSize = 1_024, RopeTheta = 10_000f,
        },
        // The LLaVA-UHD-style family: MiniCPM-V's visual path (patch 14, 64 queries per view, slices of about 448 px),
        // SmolVLM's real tokenizer and template (vocabulary 49 280), small widths.
        TinyLlavaUhd => new ModelPreset
        {
            Name = name, Family = ModelFamilies.LlavaUhd,
            VisionHidden = 32, VisionLayers = 2, VisionHeads = 2, VisionMlp = 64, ImageSize = 448, PatchSize = 14, Queries = 64, ScaleResolution = 448,
            TextHidden = 32, TextLayers = 2, TextHeads = 4, KeyValueHeads = 2, HeadDim = 8, TextMlp = 64, VocabSize = 49_280,
        },
        TinyLlavaUhdV3 => Get(TinyLlavaUhd) with { Name = name, MergeLayer = 1, Queries = 36 },
        // SmolVLM-256M-Instruct's exact dimensions (docs/smolvlm.md §2), for benchmarks.
        SmolVlm256MShape => new ModelPreset
        {
            Name = name, Family = ModelFamilies.SmolVlm,
            VisionHidden = 768, VisionLayers = 12, VisionHeads = 12, VisionMlp = 3072, ImageSize = 512, PatchSize = 16, ScaleFactor = 4,
            VisionActivation = VisionActivations.GeluTanh, // vision_config.hidden_act
            TextHidden = 576, TextLayers = 30, TextHeads = 9, KeyValueHeads = 3, HeadDim = 64, TextMlp = 1536, VocabSize = 49_280,
        },
        DemoSmolVlm or DemoLlavaUhdV1 or DemoLlavaUhdV3 => FromWeights(name, DemoWeights.Load(name)),
        _ => throw new ArgumentException($"unknown preset '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };
}
