using Google.Protobuf;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.ModelBuilder.Generation;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Xunit.Abstractions;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// The CPU variant's encoder rewrites (docs/cpu-decoder.md, "The encoder") on the trained demo model's fp32 encoder:
/// attention onto MultiHeadAttention behind an If (flash attention when no patch is masked, the original operators
/// otherwise) and the erf GELU onto BiasGelu.
/// </summary>
public sealed class EncoderFusionTests(ITestOutputHelper output)
{
    private static readonly Lazy<(ModelProto Encoder, ModelPreset Preset)> s_demo = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), "llava-edge-tests", "demo-fusion-" + Guid.NewGuid().ToString("N"));
        ModelPreset preset = ModelPreset.Get(ModelPreset.DemoSmolVlm);
        PackageGenerator.Generate(preset, dir);
        ModelPackage package = ModelPackage.Load(dir);
        ModelProto encoder = ModelProto.Parser.ParseFrom(File.ReadAllBytes(package.PathOf(package.Sessions.Sessions[SessionNames.VisionEncoder].File)));
        Directory.Delete(dir, recursive: true);
        return (encoder, preset);
    });

    [Fact]
    public void Attention_UnmaskedViews_TakeMultiHeadAttention_WithTheStandardFeatures()
    {
        (ModelProto standard, ModelPreset p) = s_demo.Value;
        (ModelProto fused, int count) = EncoderAttention.Fuse(standard);

        Assert.Equal(p.VisionLayers, count);
        Assert.DoesNotContain(fused.Graph.Node, n => n.OpType == "Softmax");
        NodeProto[] ifs = [.. fused.Graph.Node.Where(n => n.OpType == "If")];
        Assert.Equal(p.VisionLayers, ifs.Length);
        Assert.All(ifs, n => Assert.Equal("MultiHeadAttention", Assert.Single(n.Attribute.Single(a => a.Name == "then_branch").G.Node).OpType));

        float[] a = Run(standard, views: 2, masked: false);
        float[] b = Run(fused, views: 2, masked: false);
        double cos = VectorMath.Cosine(a, b);
        float maxAbs = a.Zip(b, (x, y) => MathF.Abs(x - y)).Max();
        output.WriteLine($"flash attention vs standard: cosine {cos:F8}, max abs difference {maxAbs:E2}");
        Assert.True(cos >= 0.99999, $"cosine {cos:F8}");
        Assert.NotEqual(a, b); // the fused kernel ran: its sums round differently
    }

    [Fact]
    public void Attention_AViewWithMaskedPatches_GetsExactlyTheStandardGraphsFeatures()
    {
        (ModelProto standard, _) = s_demo.Value;
        (ModelProto fused, _) = EncoderAttention.Fuse(standard);

        float[] a = Run(standard, views: 2, masked: true);
        float[] b = Run(fused, views: 2, masked: true);

        Assert.Equal(a, b); // the If's other branch is the original operators, bit for bit
    }

    [Fact]
    public void Gelu_BecomesBiasGelu_WithTheStandardFeatures()
    {
        (ModelProto standard, ModelPreset p) = s_demo.Value;
        (ModelProto fused, int count) = EncoderGelu.Fuse(standard);

        Assert.Equal(p.VisionLayers, count);
        Assert.Equal(p.VisionLayers, fused.Graph.Node.Count(n => n.OpType == "BiasGelu"));
        Assert.DoesNotContain(fused.Graph.Node, n => n.OpType == "Erf");
        float[] a = Run(standard, views: 1, masked: false);
        float[] b = Run(fused, views: 1, masked: false);
        double cos = VectorMath.Cosine(a, b);
        output.WriteLine($"BiasGelu vs erf GELU: cosine {cos:F8}");
        Assert.True(cos >= 0.99999, $"cosine {cos:F8}");
    }

    [Fact]
    public void TanhGelu_BecomesFastGelu_WithTheBuildersFeatures()
    {
        // SmolVLM-256M's vision tower uses the tanh approximation (vision_config.hidden_act = gelu_pytorch_tanh)
        ModelPreset p = ModelPreset.Get(ModelPreset.TinySmolVlm) with { VisionActivation = VisionActivations.GeluTanh };
        ModelProto standard = ModelGraphs.SmolVlmVisionEncoder(p, seed: 3);
        Assert.Equal(p.VisionLayers, standard.Graph.Node.Count(n => n.OpType == "Tanh"));
        (ModelProto fused, int count) = EncoderGelu.Fuse(standard);

        Assert.Equal(p.VisionLayers, count);
        Assert.Equal(p.VisionLayers, fused.Graph.Node.Count(n => n.OpType == "FastGelu" && n.Input.Count == 2));
        Assert.DoesNotContain(fused.Graph.Node, n => n.OpType == "Tanh");
        float[] a = Run(standard, views: 1, masked: false, p.ImageSize);
        float[] b = Run(fused, views: 1, masked: false, p.ImageSize);
        float maxAbs = a.Zip(b, (x, y) => MathF.Abs(x - y)).Max();
        float scale = a.Max(MathF.Abs);
        output.WriteLine($"FastGelu vs the builder's tanh GELU: max abs difference {maxAbs:E2} (features up to {scale:F3})");
        Assert.True(maxAbs <= 1e-4f * Math.Max(1f, scale), $"max abs difference {maxAbs:E2}");
        Assert.True(VectorMath.Cosine(a, b) >= 0.999999);
    }

    [Fact]
    public void AGraphWithoutTheBlocks_IsLeftAsItIs()
    {
        (ModelProto standard, _) = s_demo.Value;
        ModelProto attentionless = standard.Clone();
        foreach (NodeProto softmax in attentionless.Graph.Node.Where(n => n.OpType == "Softmax"))
        {
            softmax.OpType = "LogSoftmax"; // no longer the block's shape
        }

        (ModelProto same, int count) = EncoderAttention.Fuse(attentionless);
        Assert.Equal(0, count);
        Assert.Equal(attentionless.Graph.Node.Count, same.Graph.Node.Count);
    }

    /// <summary>The encoder on seeded pixels; with <paramref name="masked"/> the last view's right third is padding.</summary>
    private static float[] Run(ModelProto model, int views, bool masked, int? imageSize = null)
    {
        int s = imageSize ?? s_demo.Value.Preset.ImageSize;
        var rng = new Random(5);
        float[] pixels = new float[views * 3 * s * s];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        bool[] mask = new bool[views * s * s];
        for (int v = 0; v < views; v++)
        {
            for (int y = 0; y < s; y++)
            {
                for (int x = 0; x < s; x++)
                {
                    mask[(((v * s) + y) * s) + x] = !(masked && v == views - 1 && x >= s * 2 / 3);
                }
            }
        }

        using var session = new InferenceSession(model.ToByteArray());
        using var pv = OrtValue.CreateTensorValueFromMemory(pixels, [1, views, 3, s, s]);
        using var pm = OrtValue.CreateTensorValueFromMemory(mask, [1, views, s, s]);
        using var run = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> result = session.Run(run, ["pixel_values", "pixel_attention_mask"], [pv, pm], ["image_features"]);
        return result[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
