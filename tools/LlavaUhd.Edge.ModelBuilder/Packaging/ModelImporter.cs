using System.Text.Json;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Models.Families;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.Inference.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.ModelBuilder.Packaging;

/// <summary>
/// <c>models import</c>: reads a downloaded repository folder (config.json, preprocessor_config.json,
/// generation_config.json, tokenizer.json, chat template, <c>onnx/*.onnx</c>), opens the variant's sessions to read
/// their I/O, checks it against the family contract and writes <c>model.json</c>. Variants already in an existing
/// <c>model.json</c> are kept. Tool-only: the device loads packages that were imported here (<c>ModelPackage</c>)
/// and never imports one itself.
/// </summary>
public static class ModelImporter
{
    /// <summary>The metadata files of the public layout, hashed into <c>model.json</c> when present.</summary>
    public static IReadOnlyList<string> MetadataFiles { get; } =
    [
        "config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json", "tokenizer.json",
        "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "chat_template.json", "chat_template.jinja",
    ];

    public static ModelManifest Import(string directory, string variant, OnnxSessionFactory factory, string? name = null)
    {
        if (!ModelVariants.IsKnown(variant))
        {
            throw new ModelPackageException(directory, $"unknown variant '{variant}' (known: {string.Join(", ", ModelVariants.All)})");
        }

        // First, cheap and decisive: a known export's files must be the published ones (docs/model-packages.md).
        SortedDictionary<string, string?> provenance = PublishedExports.Embedded.Identify(directory);
        using JsonDocument config = ReadJson(directory, "config.json");
        using JsonDocument preprocessor = ReadJson(directory, "preprocessor_config.json");
        using JsonDocument generation = ReadJson(directory, "generation_config.json");
        JsonElement c = config.RootElement;
        string modelType = c.TryGetProperty("model_type", out JsonElement mt) ? mt.GetString() ?? "" : "";
        string family = modelType switch
        {
            "idefics3" or "smolvlm" => ModelFamilies.SmolVlm,
            "minicpmv" => ModelFamilies.MiniCpmV,
            "llava-uhd" => ModelFamilies.LlavaUhd,
            _ => throw new ModelPackageException("config.json", $"model_type '{modelType}' is not a supported family (idefics3/smolvlm, minicpmv, llava-uhd)"),
        };
        ModelFamily kind = ModelFamily.Get(family);

        Dictionary<string, int> added = HfTokenizer.ReadAddedTokens(RequireFile(directory, "tokenizer.json"));
        var special = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (string token in kind.SpecialTokens)
        {
            special[token] = added.TryGetValue(token, out int id)
                ? id
                : throw new ModelPackageException("tokenizer.json", $"has no special token '{token}', which family '{family}' needs");
        }

        JsonElement text = family == ModelFamilies.SmolVlm ? c.GetProperty("text_config") : c;
        JsonElement vision = c.GetProperty("vision_config");
        int textHidden = Int(text, "hidden_size");
        int heads = Int(text, "num_attention_heads");
        int patch = Int(vision, "patch_size");
        JsonElement p = preprocessor.RootElement;
        ManifestSlicing slicing;
        ManifestDimensions dims;
        int imageTokenId;
        if (family == ModelFamilies.SmolVlm)
        {
            int tile = p.TryGetProperty("max_image_size", out JsonElement mis) ? Int(mis, "longest_edge") : Int(vision, "image_size");
            int scale = Int(c, "scale_factor");
            int tokens = (tile / patch) * (tile / patch) / (scale * scale);
            slicing = new ManifestSlicing
            {
                Scheme = SliceSchemeNames.Idefics3,
                LongestEdge = Int(p.GetProperty("size"), "longest_edge"),
                TileSize = tile,
                PatchSize = patch,
                TokensPerView = tokens,
            };
            imageTokenId = c.TryGetProperty("image_token_id", out JsonElement iti) ? iti.GetInt32() : special["<image>"];
            dims = Dimensions(text, vision, textHidden, heads, tile, patch, tokens, 0, p);
        }
        else
        {
            JsonElement sc = c.GetProperty("slice_config");
            int tokens = Int(c, "query_num");
            slicing = new ManifestSlicing
            {
                Scheme = SliceSchemeNames.MiniCpmV,
                MaxSlices = Int(sc, "max_slice_nums"),
                ScaleResolution = Int(sc, "scale_resolution"),
                PatchSize = Int(sc, "patch_size"),
                TokensPerView = tokens,
            };
            imageTokenId = special[kind.ImagePlaceholder];
            dims = Dimensions(text, vision, textHidden, heads, Int(sc, "scale_resolution"), patch, tokens, Int(vision, "image_size") / patch, p);
        }

        if (imageTokenId != special[kind.ImagePlaceholder])
        {
            throw new ModelPackageException("config.json", $"image_token_id {imageTokenId} differs from the tokenizer's image token id");
        }

        JsonElement g = generation.RootElement;
        // generation_config and the text config disagree for SmolVLM (49279 vs 2): stop on both.
        List<int> eos = IdList(g, "eos_token_id").Union(IdList(text, "eos_token_id")).ToList();

        string chatTemplate = ReadChatTemplate(directory);
        (Dictionary<string, string> named, List<string> additional) = ReadNamedTokens(directory);
        foreach ((string role, string token) in named.Concat(additional.Select(t => KeyValuePair.Create("additional_special_tokens", t))))
        {
            if (!added.ContainsKey(token))
            {
                throw new ModelPackageException("tokenizer_config.json", $"{role} '{token}' is not an added token of tokenizer.json");
            }
        }

        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string f in MetadataFiles)
        {
            if (File.Exists(Path.Combine(directory, f)))
            {
                files[f] = ModelPackage.Sha256Of(Path.Combine(directory, f));
            }
        }

        ManifestVariant imported = DescribeVariant(directory, family, variant, factory);
        var variants = new SortedDictionary<string, ManifestVariant>(StringComparer.Ordinal) { [variant] = imported };
        string manifestPath = Path.Combine(directory, ModelManifest.FileName);
        if (File.Exists(manifestPath))
        {
            foreach ((string k, ManifestVariant v) in ModelManifest.Read(manifestPath).Variants)
            {
                if (k != variant && v.Sessions.Values.All(s => File.Exists(Path.Combine(directory, s.File))))
                {
                    variants[k] = v;
                }
            }
        }

        var manifest = new ModelManifest
        {
            Family = family,
            Name = name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))),
            DefaultVariant = variant,
            Slicing = slicing,
            Dimensions = dims,
            Tokens = new ManifestTokens
            {
                ImageTokenId = imageTokenId,
                BosTokenId = g.TryGetProperty("bos_token_id", out JsonElement bos) && bos.ValueKind == JsonValueKind.Number ? bos.GetInt32() : special["<|im_start|>"],
                PadTokenId = g.TryGetProperty("pad_token_id", out JsonElement pad) && pad.ValueKind == JsonValueKind.Number ? pad.GetInt32() : special["<|im_end|>"],
                EosTokenIds = eos,
                Special = special,
                Named = named.Count > 0 ? new SortedDictionary<string, string>(named, StringComparer.Ordinal) : null,
                Additional = additional.Count > 0 ? additional : null,
            },
            ChatTemplate = chatTemplate,
            Generation = new ManifestGeneration
            {
                MaxNewTokens = g.TryGetProperty("max_new_tokens", out JsonElement mnt) ? mnt.GetInt32() : 256,
                DoSample = g.TryGetProperty("do_sample", out JsonElement ds) && ds.GetBoolean(),
                EosTokenIds = eos,
            },
            Files = files,
            Variants = variants,
            Provenance = provenance,
        };
        manifest.Write(manifestPath);
        return manifest;
    }

    /// <summary>Opens each session of a variant and records its file, hash and I/O; checks the I/O against the family contract.</summary>
    public static ManifestVariant DescribeVariant(string directory, string family, string variant, OnnxSessionFactory factory)
    {
        var sessions = new SortedDictionary<string, ManifestSession>(StringComparer.Ordinal);
        foreach (SessionContract contract in ModelContracts.For(family))
        {
            string file = ModelVariants.FileOf(contract.Session, variant);
            string path = RequireFile(directory, file);
            using InferenceSession session = factory.Create(path, file);
            List<ManifestTensor> inputs = OnnxSessionFactory.Describe(session.InputNames, session.InputMetadata);
            List<ManifestTensor> outputs = OnnxSessionFactory.Describe(session.OutputNames, session.OutputMetadata);
            ModelPackage.CheckContract(file, contract, inputs, outputs, "the graph has");
            sessions[contract.Session] = new ManifestSession
            {
                File = file,
                Sha256 = ModelPackage.Sha256Of(path),
                Bytes = new FileInfo(path).Length,
                Inputs = inputs,
                Outputs = outputs,
                OptionalInputs = ModelContracts.OptionalInputNames.Where(session.InputMetadata.ContainsKey).ToList(),
            };
        }

        return new ManifestVariant { Sessions = sessions };
    }

    private static ManifestDimensions Dimensions(JsonElement text, JsonElement vision, int textHidden, int heads, int imageSize, int patch, int tokens, int grid, JsonElement p) => new()
    {
        TextHidden = textHidden,
        VisionHidden = Int(vision, "hidden_size"),
        NumLayers = Int(text, "num_hidden_layers"),
        NumKeyValueHeads = text.TryGetProperty("num_key_value_heads", out JsonElement kv) ? kv.GetInt32() : heads,
        HeadDim = text.TryGetProperty("head_dim", out JsonElement hd) ? hd.GetInt32() : textHidden / heads,
        VocabSize = Int(text, "vocab_size"),
        ImageSize = imageSize,
        PatchSize = patch,
        TokensPerView = tokens,
        PositionGrid = grid,
        ImageMean = p.TryGetProperty("image_mean", out JsonElement m) ? m.EnumerateArray().Select(x => x.GetSingle()).ToArray() : [0.5f, 0.5f, 0.5f],
        ImageStd = p.TryGetProperty("image_std", out JsonElement s) ? s.EnumerateArray().Select(x => x.GetSingle()).ToArray() : [0.5f, 0.5f, 0.5f],
    };

    /// <summary>
    /// The processor's chat template as the reference reads it: <c>chat_template.jinja</c>, else
    /// <c>chat_template.json</c>, else the tokenizer's in <c>tokenizer_config.json</c> (a string, or a list of named
    /// templates of which <c>default</c> is taken).
    /// </summary>
    private static string ReadChatTemplate(string directory)
    {
        string jinja = Path.Combine(directory, "chat_template.jinja");
        if (File.Exists(jinja))
        {
            return File.ReadAllText(jinja);
        }

        foreach (string f in new[] { "chat_template.json", "tokenizer_config.json" })
        {
            string path = Path.Combine(directory, f);
            if (!File.Exists(path))
            {
                continue;
            }

            using JsonDocument doc = ReadJson(directory, f);
            if (!doc.RootElement.TryGetProperty("chat_template", out JsonElement t))
            {
                continue;
            }

            if (t.ValueKind == JsonValueKind.String)
            {
                return t.GetString()!;
            }

            if (t.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement named in t.EnumerateArray())
                {
                    if (named.TryGetProperty("name", out JsonElement n) && n.GetString() == "default" && named.TryGetProperty("template", out JsonElement body))
                    {
                        return body.GetString() ?? "";
                    }
                }
            }
        }

        return "";
    }

    /// <summary>
    /// The named special tokens (bos/eos/pad/unk) and <c>additional_special_tokens</c> as the reference tokenizer
    /// resolves them: <c>tokenizer_config.json</c> first, then <c>special_tokens_map.json</c>, which overrides it (for
    /// SmolVLM-256M-Instruct the two disagree on eos: <c>&lt;end_of_utterance&gt;</c> vs <c>&lt;|im_end|&gt;</c>; the
    /// map wins, and generation stops on generation_config.json's ids either way).
    /// </summary>
    private static (Dictionary<string, string> Named, List<string> Additional) ReadNamedTokens(string directory)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        var additional = new List<string>();
        foreach (string f in new[] { "tokenizer_config.json", "special_tokens_map.json" })
        {
            if (!File.Exists(Path.Combine(directory, f)))
            {
                continue;
            }

            using JsonDocument doc = ReadJson(directory, f);
            foreach (string role in new[] { "bos_token", "eos_token", "pad_token", "unk_token" })
            {
                if (doc.RootElement.TryGetProperty(role, out JsonElement v) && TokenText(v) is string token)
                {
                    named[role] = token;
                }
            }

            if (doc.RootElement.TryGetProperty("additional_special_tokens", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
            {
                additional = [.. list.EnumerateArray().Select(TokenText).OfType<string>()];
            }
        }

        return (named, additional);
    }

    /// <summary>A token written as a string or as an AddedToken object (<c>{"content": …}</c>).</summary>
    private static string? TokenText(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Object when v.TryGetProperty("content", out JsonElement c) => c.GetString(),
        _ => null,
    };

    private static List<int> IdList(JsonElement e, string name) =>
        !e.TryGetProperty(name, out JsonElement v) ? []
        : v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(x => x.GetInt32()).ToList()
        : v.ValueKind == JsonValueKind.Number ? [v.GetInt32()]
        : [];

    private static int Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number
            ? v.GetInt32()
            : throw new ModelPackageException("config", $"missing integer field '{name}'");

    private static string RequireFile(string directory, string file)
    {
        string path = Path.Combine(directory, file);
        return File.Exists(path) ? path : throw new ModelPackageException(file, $"missing in '{directory}'");
    }

    private static JsonDocument ReadJson(string directory, string file)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(RequireFile(directory, file)));
        }
        catch (JsonException ex)
        {
            throw new ModelPackageException(file, $"not valid JSON: {ex.Message}", ex);
        }
    }
}
