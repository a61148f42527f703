using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using LlavaUhd.Edge.ModelBuilder.Generation;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>The compact trained-weights format (docs/demo-model.md) reaches the generated graphs value for value.</summary>
public sealed class TrainedWeightsTests
{
    [Fact]
    public void Generate_WithTrainedWeights_InitializersHoldTheTrainedValues()
    {
        ModelPreset tiny = ModelPreset.Get(ModelPreset.TinySmolVlm);
        int[] ids = [17, 81, 49279];
        float[] norm = [.. Enumerable.Range(0, tiny.TextHidden).Select(i => 0.5f + (i * 0.25f))];
        float[] head = [.. Enumerable.Range(0, tiny.TextHidden * ids.Length).Select(i => (i % 7) - 3f)];
        (byte[] json, byte[] bin) = Write(tiny, [("model.norm.weight", [tiny.TextHidden], norm, -1, []), ("lm_head.weight", [tiny.TextHidden, tiny.VocabSize], head, 1, ids)]);
        TrainedWeights weights = TrainedWeights.Load(json, bin, Convert.ToHexStringLower(SHA256.HashData(bin)));
        string dir = Directory.CreateTempSubdirectory("trained").FullName;

        PackageGenerator.Generate(ModelPreset.FromWeights("trained-tiny", weights), dir, seed: 3);

        Onnx.ModelProto decoder = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "onnx", "decoder_model_merged.onnx")));
        float[] Values(string name) => MemoryMarshal.Cast<byte, float>(decoder.Graph.Initializer.Single(t => t.Name == name).RawData.Span).ToArray();
        Assert.Equal(norm, Values("model.norm.weight"));
        float[] lm = Values("lm_head.weight");
        Assert.Equal(tiny.TextHidden * tiny.VocabSize, lm.Length);
        for (int r = 0; r < tiny.TextHidden; r++)
        {
            for (int j = 0; j < ids.Length; j++)
            {
                Assert.Equal(head[(r * ids.Length) + j], lm[(r * tiny.VocabSize) + ids[j]]);
            }
        }

        Assert.Equal(tiny.TextHidden * ids.Length, lm.Count(v => v != 0) + head.Count(v => v == 0));
        Assert.Contains("trained weights", File.ReadAllText(Path.Combine(dir, "config.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_LlavaUhdFamilyWeights_ReachTheEncoderAndResampler()
    {
        ModelPreset tiny = ModelPreset.Get(ModelPreset.TinyLlavaUhd);
        float[] query = [.. Enumerable.Range(0, tiny.Queries * tiny.TextHidden).Select(i => ((i % 11) - 5) * 0.125f)];
        float[] patchBias = [.. Enumerable.Range(0, tiny.VisionHidden).Select(i => i * 0.5f)];
        (byte[] json, byte[] bin) = Write(tiny, [("query", [tiny.Queries, tiny.TextHidden], query, -1, []), ("embeddings.patch_embedding.bias", [tiny.VisionHidden], patchBias, -1, [])]);
        TrainedWeights weights = TrainedWeights.Load(json, bin);
        string dir = Directory.CreateTempSubdirectory("trained-uhd").FullName;

        ModelPreset preset = ModelPreset.FromWeights("trained-uhd", weights);
        PackageGenerator.Generate(preset, dir, seed: 3);

        Assert.Equal(Inference.Models.ModelFamilies.LlavaUhd, preset.Family);
        Assert.Equal((tiny.Queries, tiny.ScaleResolution, tiny.MaxSlices), (preset.Queries, preset.ScaleResolution, preset.MaxSlices));
        float[] Values(string file, string name) => MemoryMarshal.Cast<byte, float>(Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "onnx", file)))
            .Graph.Initializer.Single(t => t.Name == name).RawData.Span).ToArray();
        Assert.Equal(query, Values("resampler.onnx", "query"));
        Assert.Equal(patchBias, Values("vision_encoder.onnx", "embeddings.patch_embedding.bias"));
    }

    [Fact]
    public void FromWeights_AnUnknownFamily_IsRefused()
    {
        ModelPreset tiny = ModelPreset.Get(ModelPreset.TinySmolVlm);
        (byte[] json, byte[] bin) = Write(tiny, [("model.norm.weight", [tiny.TextHidden], new float[tiny.TextHidden], -1, [])], family: "llava-next");
        var ex = Assert.Throws<ArgumentException>(() => ModelPreset.FromWeights("bad", TrainedWeights.Load(json, bin)));
        Assert.Contains("llava-next", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ModelPreset.TinyLlavaUhd, "queries")] // a sliced family's own key
    [InlineData(ModelPreset.TinySmolVlm, "text_hidden")]
    [InlineData(ModelPreset.TinySmolVlm, "rope_theta")]
    public void FromWeights_APresetWithoutAKey_IsRefusedNamingIt(string name, string key)
    {
        ModelPreset tiny = ModelPreset.Get(name);
        (byte[] json, byte[] bin) = Write(tiny, [("model.norm.weight", [tiny.TextHidden], new float[tiny.TextHidden], -1, [])]);
        var doc = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        Assert.True(doc["preset"]!.AsObject().Remove(key));
        var ex = Assert.Throws<InvalidDataException>(() => ModelPreset.FromWeights("bad", TrainedWeights.Load(System.Text.Encoding.UTF8.GetBytes(doc.ToJsonString()), bin)));
        Assert.Contains($"'{key}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DamagedBin_IsRefusedByHash()
    {
        ModelPreset tiny = ModelPreset.Get(ModelPreset.TinySmolVlm);
        (byte[] json, byte[] bin) = Write(tiny, [("model.norm.weight", [tiny.TextHidden], new float[tiny.TextHidden], -1, [])]);
        string sha = Convert.ToHexStringLower(SHA256.HashData(bin));
        bin[0] ^= 1;
        var ex = Assert.Throws<InvalidDataException>(() => TrainedWeights.Load(json, bin, sha));
        Assert.Contains("damaged", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_ATensorTheGraphsDoNotHave_IsAnError()
    {
        ModelPreset tiny = ModelPreset.Get(ModelPreset.TinySmolVlm);
        (byte[] json, byte[] bin) = Write(tiny, [("model.layers.0.mlp.gate_projection.weight", [4], new float[4], -1, [])]);
        var preset = ModelPreset.FromWeights("bad", TrainedWeights.Load(json, bin));
        var ex = Assert.Throws<InvalidDataException>(() => PackageGenerator.Generate(preset, Directory.CreateTempSubdirectory("bad").FullName));
        Assert.Contains("model.layers.0.mlp.gate_projection.weight", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_AShapeThatDiffers_NamesTheTensor()
    {
        ModelPreset tiny = ModelPreset.Get(ModelPreset.TinySmolVlm);
        (byte[] json, byte[] bin) = Write(tiny, [("model.norm.weight", [tiny.TextHidden + 1], new float[tiny.TextHidden + 1], -1, [])]);
        var preset = ModelPreset.FromWeights("bad", TrainedWeights.Load(json, bin));
        var ex = Assert.Throws<InvalidDataException>(() => PackageGenerator.Generate(preset, Directory.CreateTempSubdirectory("bad").FullName));
        Assert.Contains("model.norm.weight", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A weights.json/weights.bin pair in the trainer's format with <paramref name="preset"/>'s dimensions.</summary>
    internal static (byte[] Json, byte[] Bin) Write(ModelPreset preset, (string Name, long[] Shape, float[] Values, int Axis, int[] Ids)[] tensors, string? family = null)
    {
        var bin = new MemoryStream();
        var list = new JsonArray();
        foreach ((string name, long[] shape, float[] values, int axis, int[] ids) in tensors)
        {
            var entry = new JsonObject
            {
                ["name"] = name,
                ["shape"] = new JsonArray([.. shape.Select(d => (JsonNode)d)]),
                ["dtype"] = "float16",
                ["offset"] = bin.Length,
                ["length"] = values.Length,
            };
            if (axis >= 0)
            {
                entry["sparse"] = new JsonObject { ["axis"] = axis, ["ids"] = new JsonArray([.. ids.Select(i => (JsonNode)i)]) };
            }

            foreach (float v in values)
            {
                bin.Write(BitConverter.GetBytes((Half)v));
            }

            list.Add(entry);
        }

        var root = new JsonObject
        {
            ["format"] = 1,
            ["preset"] = new JsonObject
            {
                ["vision_hidden"] = preset.VisionHidden, ["vision_layers"] = preset.VisionLayers, ["vision_heads"] = preset.VisionHeads,
                ["vision_mlp"] = preset.VisionMlp, ["image_size"] = preset.ImageSize, ["patch_size"] = preset.PatchSize,
                ["scale_factor"] = preset.ScaleFactor, ["text_hidden"] = preset.TextHidden, ["text_layers"] = preset.TextLayers,
                ["text_heads"] = preset.TextHeads, ["kv_heads"] = preset.KeyValueHeads, ["head_dim"] = preset.HeadDim,
                ["text_mlp"] = preset.TextMlp, ["vocab_size"] = preset.VocabSize, ["rope_theta"] = preset.RopeTheta,
            },
            ["tensors"] = list,
        };
        JsonObject dims = root["preset"]!.AsObject();
        if (family is not null || preset.Family != Inference.Models.ModelFamilies.SmolVlm)
        {
            dims["family"] = family ?? preset.Family;
            dims["queries"] = preset.Queries;
            dims["scale_resolution"] = preset.ScaleResolution;
            dims["max_slices"] = preset.MaxSlices;
        }

        return (System.Text.Encoding.UTF8.GetBytes(root.ToJsonString()), bin.ToArray());
    }
}
