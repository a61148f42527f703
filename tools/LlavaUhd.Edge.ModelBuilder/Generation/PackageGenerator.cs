using System.Text.Json.Nodes;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// Writes a complete package in the public Hugging Face layout (<c>onnx/*.onnx</c>, tokenizer.json, config.json,
/// preprocessor_config.json, generation_config.json, chat_template.json) and then imports it with the same
/// <see cref="ModelImporter"/> a real download goes through, which writes <c>model.json</c>.
/// </summary>
public static class PackageGenerator
{
    public const string SmolVlmChatTemplate =
        "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

    public const string ChatMlTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

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
            Save(SessionNames.VisionEncoder, () => ModelGraphs.SmolVlmVisionEncoder(preset, seed));
        }
        else
        {
            Save(SessionNames.VisionEncoder, () => ModelGraphs.MiniCpmVVisionEncoder(preset, seed));
            Save(SessionNames.Resampler, () => ModelGraphs.MiniCpmVResampler(preset, seed + 1));
        }

        Save(SessionNames.EmbedTokens, () => ModelGraphs.EmbedTokens(preset, seed + 2));
        Save(SessionNames.Decoder, () => ModelGraphs.Decoder(preset, seed + 3, progress));

        progress?.Report("writing tokenizer and configs");
        TokenizerWriter.Write(preset, Path.Combine(directory, "tokenizer.json"));
        WriteConfigs(preset, directory);
        progress?.Report("importing (writes model.json)");
        var describe = new OnnxSessionFactory(new OnnxSessionOptions { OptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpThreads = 1 });
        return ModelImporter.Import(directory, ModelVariants.Fp32, describe, preset.Name);
    }

    private static void WriteConfigs(ModelPreset p, string directory)
    {
        bool smol = p.Family == ModelFamilies.SmolVlm;
        var text = new JsonObject
        {
            ["model_type"] = "llama",
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
        };
        var vision = new JsonObject
        {
            ["model_type"] = smol ? "idefics3_vision" : "siglip_vision_model",
            ["hidden_size"] = p.VisionHidden,
            ["intermediate_size"] = p.VisionMlp,
            ["num_hidden_layers"] = p.VisionLayers,
            ["num_attention_heads"] = p.VisionHeads,
            ["image_size"] = p.ImageSize,
            ["patch_size"] = p.PatchSize,
            ["layer_norm_eps"] = 1e-6,
        };
        JsonObject config;
        JsonObject preprocessor;
        if (smol)
        {
            config = new JsonObject
            {
                ["architectures"] = new JsonArray("Idefics3ForConditionalGeneration"),
                ["model_type"] = "idefics3",
                ["image_token_id"] = 49190,
                ["scale_factor"] = p.ScaleFactor,
                ["tie_word_embeddings"] = false,
                ["text_config"] = text,
                ["vision_config"] = vision,
                ["_generated_by"] = $"LlavaUhd.Edge.ModelBuilder preset {p.Name} (random weights)",
            };
            preprocessor = new JsonObject
            {
                ["image_processor_type"] = "Idefics3ImageProcessor",
                ["do_convert_rgb"] = true,
                ["do_resize"] = true,
                ["size"] = new JsonObject { ["longest_edge"] = 4 * p.ImageSize },
                ["do_image_splitting"] = true,
                ["max_image_size"] = new JsonObject { ["longest_edge"] = p.ImageSize },
                ["resample"] = 1,
                ["do_rescale"] = true,
                ["rescale_factor"] = 1.0 / 255,
                ["do_normalize"] = true,
                ["image_mean"] = new JsonArray(0.5, 0.5, 0.5),
                ["image_std"] = new JsonArray(0.5, 0.5, 0.5),
                ["do_pad"] = true,
            };
        }
        else
        {
            config = new JsonObject
            {
                ["architectures"] = new JsonArray("MiniCPMV"),
                ["model_type"] = "minicpmv",
                ["query_num"] = p.Queries,
                ["slice_config"] = new JsonObject { ["max_slice_nums"] = 9, ["patch_size"] = p.PatchSize, ["scale_resolution"] = p.ScaleResolution },
                ["vision_config"] = vision,
                ["_generated_by"] = $"LlavaUhd.Edge.ModelBuilder preset {p.Name} (random weights)",
            };
            foreach ((string k, JsonNode? v) in text.Where(kv => kv.Key != "model_type").ToList())
            {
                config[k] = v?.DeepClone();
            }

            preprocessor = new JsonObject
            {
                ["image_processor_type"] = "MiniCPMVImageProcessor",
                ["max_slice_nums"] = 9,
                ["scale_resolution"] = p.ScaleResolution,
                ["patch_size"] = p.PatchSize,
                ["image_mean"] = new JsonArray(0.5, 0.5, 0.5),
                ["image_std"] = new JsonArray(0.5, 0.5, 0.5),
            };
        }

        var generation = new JsonObject
        {
            ["bos_token_id"] = 1,
            ["eos_token_id"] = smol ? 49279 : 2,
            ["pad_token_id"] = 2,
            ["max_new_tokens"] = 256,
            ["do_sample"] = false,
        };
        var indented = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(indented));
        File.WriteAllText(Path.Combine(directory, "preprocessor_config.json"), preprocessor.ToJsonString(indented));
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), generation.ToJsonString(indented));
        File.WriteAllText(Path.Combine(directory, "chat_template.json"),
            new JsonObject { ["chat_template"] = smol ? SmolVlmChatTemplate : ChatMlTemplate }.ToJsonString(indented));
    }
}
