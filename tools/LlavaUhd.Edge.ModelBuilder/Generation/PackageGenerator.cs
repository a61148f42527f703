using System.Text.Json.Nodes;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Packaging;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// Writes a complete package in the public Hugging Face layout (<c>onnx/*.onnx</c> and the nine metadata files of the
/// public export: config.json, generation_config.json, preprocessor_config.json, processor_config.json,
/// tokenizer.json, tokenizer_config.json, special_tokens_map.json, added_tokens.json, chat_template.json) and then
/// imports it with the same <see cref="ModelImporter"/> a real download goes through, which writes <c>model.json</c>.
/// smolvlm packages carry the real SmolVLM-256M-Instruct tokenizer, chat template and processor settings unchanged
/// (<see cref="ReferenceFiles"/>); only the dimensions in config.json are the preset's.
/// </summary>
public static class PackageGenerator
{
    public const string ChatMlTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    /// <summary>The public SmolVLM export's tokenizer, template and generation files, copied unchanged by both SmolVLM-tokenizer families.</summary>
    private static readonly string[] s_smolVlmTextFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "chat_template.json", "generation_config.json"];

    public static ModelManifest Generate(ModelPreset preset, string directory, int seed = 1234, IProgress<string>? progress = null)
    {
        Directory.CreateDirectory(Path.Combine(directory, "onnx"));
        void Save(string session, Func<ModelProto> build)
        {
            progress?.Report($"building {session}");
            ModelProto model = build();
            string file = ModelVariants.FileOf(session, ModelVariants.Fp32);
            progress?.Report($"writing {file}");
            using (FileStream stream = File.Create(Path.Combine(directory, file)))
            {
                using var coded = new Google.Protobuf.CodedOutputStream(stream);
                model.WriteTo(coded);
                coded.Flush();
            }
        }

        if (preset.Family == ModelFamilies.SmolVlm)
        {
            Save(SessionNames.VisionEncoder, () => ModelGraphs.SmolVlmVisionEncoder(preset, seed, preset.Weights));
        }
        else
        {
            Save(SessionNames.VisionEncoder, () => ModelGraphs.MiniCpmVVisionEncoder(preset, seed, preset.Weights));
            Save(SessionNames.Resampler, () => ModelGraphs.MiniCpmVResampler(preset, seed + 1, preset.Weights));
        }

        Save(SessionNames.EmbedTokens, () => ModelGraphs.EmbedTokens(preset, seed + 2, preset.Weights));
        Save(SessionNames.Decoder, () => ModelGraphs.Decoder(preset, seed + 3, progress, preset.Weights));
        if (preset.Weights?.Untaken() is { Count: > 0 } untaken)
        {
            throw new InvalidDataException($"trained tensors the graphs do not have: {string.Join(", ", untaken)} (the trainer's export and the builder disagree)");
        }

        progress?.Report("writing tokenizer and configs");
        if (preset.Family == ModelFamilies.SmolVlm)
        {
            WriteSmolVlmFiles(preset, directory);
        }
        else if (preset.Family == ModelFamilies.LlavaUhd)
        {
            WriteLlavaUhdFiles(preset, directory);
        }
        else
        {
            TokenizerWriter.Write(preset, Path.Combine(directory, "tokenizer.json"));
            WriteMiniCpmVConfigs(preset, directory);
        }

        progress?.Report("importing (writes model.json)");
        var describe = new OnnxSessionFactory(new OnnxSessionOptions { OptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpThreads = 1 });
        return ModelImporter.Import(directory, ModelVariants.Fp32, describe, preset.Name);
    }

    private static void WriteSmolVlmFiles(ModelPreset p, string directory)
    {
        var indented = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        foreach (string file in s_smolVlmTextFiles)
        {
            File.WriteAllBytes(Path.Combine(directory, file), ReferenceFiles.SmolVlm(file));
        }

        JsonObject config = ReferenceFiles.SmolVlmJson("config.json");
        config["scale_factor"] = p.ScaleFactor;
        config["vocab_size"] = p.VocabSize;
        config["_generated_by"] = p.Weights is null
            ? $"LlavaUhd.Edge.ModelBuilder preset {p.Name} (random weights)"
            : $"LlavaUhd.Edge.ModelBuilder preset {p.Name} (trained weights, sha256 {p.Weights.Sha256}; docs/demo-model.md)";
        JsonObject text = config["text_config"]!.AsObject();
        text["hidden_size"] = p.TextHidden;
        text["intermediate_size"] = p.TextMlp;
        text["num_hidden_layers"] = p.TextLayers;
        text["num_attention_heads"] = p.TextHeads;
        text["num_key_value_heads"] = p.KeyValueHeads;
        text["head_dim"] = p.HeadDim;
        text["vocab_size"] = p.VocabSize;
        text["rope_theta"] = p.RopeTheta;
        text["pixel_shuffle_factor"] = p.ScaleFactor;
        JsonObject vision = config["vision_config"]!.AsObject();
        vision["hidden_size"] = p.VisionHidden;
        vision["intermediate_size"] = p.VisionMlp;
        vision["num_hidden_layers"] = p.VisionLayers;
        vision["num_attention_heads"] = p.VisionHeads;
        vision["image_size"] = p.ImageSize;
        vision["patch_size"] = p.PatchSize;
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(indented));

        // The public export's processor files, byte for byte, unless the preset's tile or token count differs.
        JsonObject preprocessor = ReferenceFiles.SmolVlmJson("preprocessor_config.json");
        JsonObject processor = ReferenceFiles.SmolVlmJson("processor_config.json");
        if (preprocessor["max_image_size"]!["longest_edge"]!.GetValue<int>() == p.ImageSize && processor["image_seq_len"]!.GetValue<int>() == p.TokensPerView)
        {
            File.WriteAllBytes(Path.Combine(directory, "preprocessor_config.json"), ReferenceFiles.SmolVlm("preprocessor_config.json"));
            File.WriteAllBytes(Path.Combine(directory, "processor_config.json"), ReferenceFiles.SmolVlm("processor_config.json"));
            return;
        }

        preprocessor["size"] = new JsonObject { ["longest_edge"] = 4 * p.ImageSize };
        preprocessor["max_image_size"] = new JsonObject { ["longest_edge"] = p.ImageSize };
        File.WriteAllText(Path.Combine(directory, "preprocessor_config.json"), preprocessor.ToJsonString(indented));
        processor["image_seq_len"] = p.TokensPerView;
        File.WriteAllText(Path.Combine(directory, "processor_config.json"), processor.ToJsonString(indented));
    }

    /// <summary>
    /// The LLaVA-UHD-style family (docs/llava-uhd.md): the real SmolVLM tokenizer, chat template and generation settings
    /// unchanged, a MiniCPM-V-style config.json (<c>model_type</c> "llava-uhd", the slicing in <c>slice_config</c>).
    /// </summary>
    private static void WriteLlavaUhdFiles(ModelPreset p, string directory)
    {
        foreach (string file in s_smolVlmTextFiles)
        {
            File.WriteAllBytes(Path.Combine(directory, file), ReferenceFiles.SmolVlm(file));
        }

        JsonObject config = MiniCpmVConfig(p, "llava-uhd", "LlavaUhd");
        if (p.MergeLayer > 0)
        {
            // Progressive compression (docs/llava-uhd.md): informational; the encoder graph carries it.
            config["vision_config"]!["merge_layer"] = p.MergeLayer;
            config["vision_config"]!["merge_window"] = p.MergeWindow;
        }

        JsonObject text = ReferenceFiles.SmolVlmJson("config.json")["text_config"]!.AsObject();
        foreach (string id in new[] { "bos_token_id", "eos_token_id", "pad_token_id" })
        {
            config[id] = text[id]!.DeepClone();
        }

        var indented = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(indented));
        File.WriteAllText(Path.Combine(directory, "preprocessor_config.json"), MiniCpmVPreprocessor(p).ToJsonString(indented));
        File.WriteAllText(Path.Combine(directory, "processor_config.json"), new JsonObject { ["image_seq_len"] = p.TokensPerView }.ToJsonString(indented));
    }

    private static JsonObject MiniCpmVPreprocessor(ModelPreset p) => new()
    {
        ["image_processor_type"] = "MiniCPMVImageProcessor",
        ["processor_class"] = "MiniCPMVProcessor",
        ["max_slice_nums"] = p.MaxSlices,
        ["scale_resolution"] = p.ScaleResolution,
        ["patch_size"] = p.PatchSize,
        ["image_mean"] = new JsonArray(0.5, 0.5, 0.5),
        ["image_std"] = new JsonArray(0.5, 0.5, 0.5),
    };

    private static JsonObject MiniCpmVConfig(ModelPreset p, string modelType, string architecture) => new()
    {
        ["architectures"] = new JsonArray(architecture),
        ["model_type"] = modelType,
        ["query_num"] = p.Queries,
        ["slice_config"] = new JsonObject { ["max_slice_nums"] = p.MaxSlices, ["patch_size"] = p.PatchSize, ["scale_resolution"] = p.ScaleResolution },
        ["vision_config"] = new JsonObject
        {
            ["model_type"] = "siglip_vision_model",
            ["hidden_size"] = p.VisionHidden,
            ["intermediate_size"] = p.VisionMlp,
            ["num_hidden_layers"] = p.VisionLayers,
            ["num_attention_heads"] = p.VisionHeads,
            ["image_size"] = p.ImageSize,
            ["patch_size"] = p.PatchSize,
            ["layer_norm_eps"] = 1e-6,
        },
        ["hidden_size"] = p.TextHidden,
        ["intermediate_size"] = p.TextMlp,
        ["num_hidden_layers"] = p.TextLayers,
        ["num_attention_heads"] = p.TextHeads,
        ["num_key_value_heads"] = p.KeyValueHeads,
        ["head_dim"] = p.HeadDim,
        ["vocab_size"] = p.VocabSize,
        ["max_position_embeddings"] = 8192,
        ["rope_theta"] = p.RopeTheta,
        ["rms_norm_eps"] = 1e-5,
        ["bos_token_id"] = 1,
        ["eos_token_id"] = 2,
        ["pad_token_id"] = 2,
        ["_generated_by"] = p.Weights is null
            ? $"LlavaUhd.Edge.ModelBuilder preset {p.Name} (random weights)"
            : $"LlavaUhd.Edge.ModelBuilder preset {p.Name} (trained weights, sha256 {p.Weights.Sha256}; docs/demo-model.md)",
    };

    private static void WriteMiniCpmVConfigs(ModelPreset p, string directory)
    {
        JsonObject config = MiniCpmVConfig(p, "minicpmv", "MiniCPMV");
        JsonObject preprocessor = MiniCpmVPreprocessor(p);
        var generation = new JsonObject
        {
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["pad_token_id"] = 2,
            ["max_new_tokens"] = 256,
            ["do_sample"] = false,
        };
        Dictionary<string, int> specials = TokenizerWriter.SpecialTokens(p);
        JsonObject Token(string content) => new()
        {
            ["content"] = content, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false, ["single_word"] = false,
        };
        string[] additional = ["<image>", "</image>", "<slice>", "</slice>"];
        var specialMap = new JsonObject
        {
            ["additional_special_tokens"] = new JsonArray([.. additional.Select(t => (JsonNode)Token(t))]),
            ["bos_token"] = Token("<|im_start|>"),
            ["eos_token"] = Token("<|im_end|>"),
            ["pad_token"] = Token("<|im_end|>"),
            ["unk_token"] = Token("<unk>"),
        };
        var tokenizerConfig = new JsonObject
        {
            ["add_prefix_space"] = false,
            ["additional_special_tokens"] = new JsonArray([.. additional.Select(t => (JsonNode)JsonValue.Create(t))]),
            ["bos_token"] = "<|im_start|>",
            ["chat_template"] = ChatMlTemplate,
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = "<|im_end|>",
            ["model_max_length"] = 8192,
            ["pad_token"] = "<|im_end|>",
            ["processor_class"] = "MiniCPMVProcessor",
            ["tokenizer_class"] = "GPT2Tokenizer",
            ["unk_token"] = "<unk>",
            ["vocab_size"] = p.VocabSize,
        };
        var addedTokens = new JsonObject();
        foreach ((string token, int id) in specials.OrderBy(kv => kv.Value))
        {
            addedTokens[token] = id;
        }

        var processor = new JsonObject { ["image_seq_len"] = p.TokensPerView, ["processor_class"] = "MiniCPMVProcessor" };
        var indented = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        void Write(string file, JsonObject json) => File.WriteAllText(Path.Combine(directory, file), json.ToJsonString(indented));
        Write("config.json", config);
        Write("preprocessor_config.json", preprocessor);
        Write("processor_config.json", processor);
        Write("generation_config.json", generation);
        Write("chat_template.json", new JsonObject { ["chat_template"] = ChatMlTemplate });
        Write("tokenizer_config.json", tokenizerConfig);
        Write("special_tokens_map.json", specialMap);
        Write("added_tokens.json", addedTokens);
    }
}
