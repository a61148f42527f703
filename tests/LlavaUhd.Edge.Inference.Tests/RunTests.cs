using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;
using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>The generated graphs run: the encoder gives 64 tokens per tile, and the decoder's KV cache is consistent.</summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class RunTests
{
    private readonly GeneratedPackages _packages;

    public RunTests(GeneratedPackages packages) => _packages = packages;

    [Fact]
    public void SmolVlm_VisionEncoder_Gives64TokensPerTile()
    {
        ModelPackage package = ModelPackage.Load(_packages.SmolVlm);
        using ModelSessions sessions = package.OpenSessions(new OnnxSessionFactory());
        float[] pixels = new float[2 * 3 * 512 * 512];
        var rng = new Random(1);
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (rng.NextSingle() * 2) - 1;
        }

        bool[] mask = Enumerable.Repeat(true, 2 * 512 * 512).ToArray();
        using var pv = OrtValue.CreateTensorValueFromMemory(pixels, [1, 2, 3, 512, 512]);
        using var pm = OrtValue.CreateTensorValueFromMemory(mask, [1, 2, 512, 512]);
        using var run = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outs = sessions[SessionNames.VisionEncoder].Run(
            run, new Dictionary<string, OrtValue> { ["pixel_values"] = pv, ["pixel_attention_mask"] = pm }, ["image_features"]);
        Assert.Equal([2L, 64, 16], outs[0].GetTensorTypeAndShape().Shape);
        Assert.All(outs[0].GetTensorDataAsSpan<float>().ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData(ModelPreset.TinySmolVlm)]
    [InlineData(ModelPreset.TinyMiniCpmV)]
    public void Decoder_StepWithCache_EqualsFullPrefill(string preset)
    {
        ModelPackage package = ModelPackage.Load(_packages.Get(preset));
        using ModelSessions sessions = package.OpenSessions(new OnnxSessionFactory());
        ManifestDimensions d = package.Manifest.Dimensions;
        long[] ids = [1, 20, 30, 40, 50, 60];
        float[] embeds = Embed(sessions, ids);

        // Full prefill of 6 tokens vs prefill of 5 then one step with the cache: the last logits must agree.
        (float[] full, _) = Decode(sessions, d, embeds, ids.Length, 0, null);
        int h = d.TextHidden;
        (_, Dictionary<string, (float[] Data, long[] Shape)> present) = Decode(sessions, d, embeds[..(5 * h)], 5, 0, null);
        (float[] step, _) = Decode(sessions, d, embeds[(5 * h)..], 1, 5, present);
        int v = d.VocabSize;
        float[] lastFull = full[(5 * v)..(6 * v)];
        for (int i = 0; i < v; i++)
        {
            Assert.True(MathF.Abs(lastFull[i] - step[i]) < 1e-3f, $"logit {i}: {lastFull[i]} vs {step[i]}");
        }
    }

    internal static float[] Embed(ModelSessions sessions, long[] ids)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var run = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outs = sessions[SessionNames.EmbedTokens].Run(run, new Dictionary<string, OrtValue> { ["input_ids"] = input }, ["inputs_embeds"]);
        return outs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    internal static (float[] Logits, Dictionary<string, (float[] Data, long[] Shape)> Present) Decode(
        ModelSessions sessions, ManifestDimensions d, float[] embeds, int seq, int past, Dictionary<string, (float[] Data, long[] Shape)>? cache)
    {
        InferenceSession decoder = sessions[SessionNames.Decoder];
        var values = new List<OrtValue>();
        try
        {
            var inputs = new Dictionary<string, OrtValue>
            {
                ["inputs_embeds"] = Track(values, OrtValue.CreateTensorValueFromMemory(embeds, [1, seq, d.TextHidden])),
                ["attention_mask"] = Track(values, OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, past + seq).ToArray(), [1, past + seq])),
                ["position_ids"] = Track(values, OrtValue.CreateTensorValueFromMemory(Enumerable.Range(past, seq).Select(i => (long)i).ToArray(), [1, seq])),
            };
            for (int l = 0; l < d.NumLayers; l++)
            {
                foreach (string kv in new[] { "key", "value" })
                {
                    (float[] data, long[] shape) = cache?[$"present.{l}.{kv}"] ?? ([], [1, d.NumKeyValueHeads, 0, d.HeadDim]);
                    inputs[$"past_key_values.{l}.{kv}"] = Track(values, OrtValue.CreateTensorValueFromMemory(data, shape));
                }
            }

            using var run = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outs = decoder.Run(run, inputs, decoder.OutputNames);
            var present = new Dictionary<string, (float[], long[])>();
            for (int i = 1; i < outs.Count; i++)
            {
                present[decoder.OutputNames[i]] = (outs[i].GetTensorDataAsSpan<float>().ToArray(), outs[i].GetTensorTypeAndShape().Shape);
            }

            return (outs[0].GetTensorDataAsSpan<float>().ToArray(), present);
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    private static OrtValue Track(List<OrtValue> list, OrtValue value)
    {
        list.Add(value);
        return value;
    }
}
