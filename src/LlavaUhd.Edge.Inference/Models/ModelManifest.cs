using System.Text.Json;
using System.Text.Json.Serialization;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Inference.Models;

/// <summary>
/// <c>model.json</c>: what the runtime needs to know about a package besides the public files. Written by
/// <c>models import</c> (and by the generator, which imports its own output); read and checked by <see cref="ModelPackage"/>.
/// </summary>
public sealed class ModelManifest
{
    public const string FileName = "model.json";

    /// <summary>Version of this file's format.</summary>
    public int Format { get; init; } = 1;

    /// <summary><see cref="ModelFamilies.SmolVlm"/> or <see cref="ModelFamilies.MiniCpmV"/>.</summary>
    public required string Family { get; init; }

    /// <summary>A free-form name (the repository id or generator preset).</summary>
    public string Name { get; init; } = "";

    /// <summary>The variant loaded when none is asked for.</summary>
    public required string DefaultVariant { get; init; }

    public required ManifestSlicing Slicing { get; init; }

    public required ManifestDimensions Dimensions { get; init; }

    public required ManifestTokens Tokens { get; init; }

    public string ChatTemplate { get; init; } = "";

    public required ManifestGeneration Generation { get; init; }

    /// <summary>Non-ONNX files of the package (tokenizer and configs) and their sha256 (lower-case hex).</summary>
    public required IReadOnlyDictionary<string, string> Files { get; init; }

    /// <summary>Each imported variant with its sessions.</summary>
    public required IReadOnlyDictionary<string, ManifestVariant> Variants { get; init; }

    /// <summary>
    /// Which published file each ONNX file of the package is (<c>"onnx/x.onnx": "HuggingFaceTB/SmolVLM-256M-Instruct
    /// onnx/x.onnx"</c>), or null for a file no known export publishes (generated, fine-tuned or converted elsewhere).
    /// </summary>
    public IReadOnlyDictionary<string, string?>? Provenance { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static ModelManifest Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), JsonOptions)
                ?? throw new JsonException("the file holds 'null'");
        }
        catch (JsonException ex)
        {
            throw new Errors.ModelPackageException(FileName, $"not a valid manifest: {ex.Message}", ex);
        }
    }

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions) + "\n");

    /// <summary>A copy with <paramref name="variant"/> added or replaced.</summary>
    public ModelManifest WithVariant(string name, ManifestVariant variant)
    {
        var variants = new SortedDictionary<string, ManifestVariant>(Variants.ToDictionary(), StringComparer.Ordinal) { [name] = variant };
        return new ModelManifest
        {
            Format = Format,
            Family = Family,
            Name = Name,
            DefaultVariant = DefaultVariant,
            Slicing = Slicing,
            Dimensions = Dimensions,
            Tokens = Tokens,
            ChatTemplate = ChatTemplate,
            Generation = Generation,
            Files = Files,
            Variants = variants,
            Provenance = Provenance,
        };
    }
}

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

/// <summary>Model dimensions the runtime needs (KV cache shapes, embedding width, encoder input size).</summary>
public sealed class ManifestDimensions
{
    /// <summary>Text hidden size (the width of <c>inputs_embeds</c> and <c>image_features</c>).</summary>
    public int TextHidden { get; init; }

    public int VisionHidden { get; init; }

    public int NumLayers { get; init; }

    public int NumKeyValueHeads { get; init; }

    public int HeadDim { get; init; }

    public int VocabSize { get; init; }

    /// <summary>The encoder's view side (SmolVLM tile 512; MiniCPM-V scale resolution 448).</summary>
    public int ImageSize { get; init; }

    public int PatchSize { get; init; }

    /// <summary>Visual tokens per view (SmolVLM 64, after the pixel shuffle; MiniCPM-V: resampler queries).</summary>
    public int TokensPerView { get; init; }

    /// <summary>minicpmv: the side of the position-embedding grid the patch positions are bucketed into.</summary>
    public int PositionGrid { get; init; }

    public IReadOnlyList<float> ImageMean { get; init; } = [0.5f, 0.5f, 0.5f];

    public IReadOnlyList<float> ImageStd { get; init; } = [0.5f, 0.5f, 0.5f];
}

/// <summary>Special tokens: every added token the runtime relies on, with its id.</summary>
public sealed class ManifestTokens
{
    public int ImageTokenId { get; init; }

    public int BosTokenId { get; init; }

    public int PadTokenId { get; init; }

    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>
    /// The tokenizer's named special tokens (<c>bos_token</c>, <c>eos_token</c>, <c>pad_token</c>, <c>unk_token</c>) as
    /// the reference resolves them: tokenizer_config.json, overridden by special_tokens_map.json.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Named { get; init; }

    /// <summary>The tokenizer's <c>additional_special_tokens</c>.</summary>
    public IReadOnlyList<string>? Additional { get; init; }

    /// <summary>Token text → id, e.g. <c>"&lt;image&gt;": 49190</c>. The tokenizer must have every one of them.</summary>
    public required IReadOnlyDictionary<string, int> Special { get; init; }
}

/// <summary>Generation defaults (from generation_config.json).</summary>
public sealed class ManifestGeneration
{
    public int MaxNewTokens { get; init; } = 256;

    public bool DoSample { get; init; }

    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
}

/// <summary>The sessions of one precision variant.</summary>
public sealed class ManifestVariant
{
    public required IReadOnlyDictionary<string, ManifestSession> Sessions { get; init; }
}

/// <summary>One ONNX file: its path, hash and I/O as ONNX Runtime reports it.</summary>
public sealed class ManifestSession
{
    public required string File { get; init; }

    public required string Sha256 { get; init; }

    public long Bytes { get; init; }

    public required IReadOnlyList<ManifestTensor> Inputs { get; init; }

    public required IReadOnlyList<ManifestTensor> Outputs { get; init; }

    /// <summary>Inputs of <see cref="ModelContracts.OptionalInputNames"/> that this export has.</summary>
    public IReadOnlyList<string> OptionalInputs { get; init; } = [];
}

/// <summary>A tensor's name, element type and shape (-1 for a symbolic dimension).</summary>
public sealed record ManifestTensor(string Name, string DType, IReadOnlyList<long> Shape);
