using System.Runtime.InteropServices;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;
using LlavaUhd.Edge.ModelBuilder.Quantization;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using OpenCvSharp;
using Xunit.Abstractions;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// The CPU decoder variant (docs/cpu-decoder.md) on the trained demo model: the fused graph reproduces the standard
/// decoder's logits step by step, the 8-bit and 4-bit variants give the standard greedy answers, and the decode loop
/// allocates nothing per generated token.
/// </summary>
public sealed class CpuDecoderTests(ITestOutputHelper output)
{
    private static readonly Lazy<string> s_package = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), "llava-edge-tests", "demo-cpu-" + Guid.NewGuid().ToString("N"));
        PackageGenerator.Generate(ModelPreset.Get(ModelPreset.DemoSmolVlm), dir);
        PackageOptimizer.Optimize(dir, 8);
        PackageOptimizer.Optimize(dir, 4);
        return dir;
    });

    private static readonly string s_golden = Path.Combine(AppContext.BaseDirectory, "TestData", "golden", "demo-smolvlm");

    [Fact]
    public void FusedGraph_Fp32_GivesTheStandardDecodersLogits_AtPrefillAndEveryStep()
    {
        ModelPackage package = ModelPackage.Load(s_package.Value);
        string standardPath = package.PathOf(package.Sessions.Sessions[SessionNames.Decoder].File);
        ModelProto fused = FusedDecoder.Build(ModelProto.Parser.ParseFrom(File.ReadAllBytes(standardPath)), maxContext: 512);
        using var standard = new InferenceSession(standardPath);
        using var fast = new InferenceSession(fused.ToByteArray());
        ManifestDimensions d = package.Manifest.Dimensions;
        int h = d.TextHidden, kvh = d.NumKeyValueHeads, hd = d.HeadDim, layers = d.NumLayers, vocab = d.VocabSize, cap = 64;

        var rng = new Random(3);
        float[] Embeds(int n) => Enumerable.Range(0, n * h).Select(_ => (float)((rng.NextDouble() - 0.5) * 0.5)).ToArray();
        float[][] past = Enumerable.Range(0, layers * 2).Select(_ => Array.Empty<float>()).ToArray();
        float[][] shared = Enumerable.Range(0, layers * 2).Select(_ => new float[kvh * cap * hd]).ToArray();
        using var disposables = new DisposableList();
        OrtValue[] sharedValues = [.. shared.Select(b => disposables.Add(OrtValue.CreateTensorValueFromMemory(b, [1, kvh, cap, hd])))];
        string[] pastNames = [.. Enumerable.Range(0, layers).SelectMany(l => new[] { $"past_key_values.{l}.key", $"past_key_values.{l}.value" })];
        string[] presentNames = [.. Enumerable.Range(0, layers).SelectMany(l => new[] { $"present.{l}.key", $"present.{l}.value" })];
        int length = 0;
        foreach (int seq in new[] { 11, 1, 1, 1, 1 })
        {
            float[] embeds = Embeds(seq);
            int total = length + seq;

            // the standard graph: mask, positions, growing past
            var inputs = new Dictionary<string, OrtValue>
            {
                ["inputs_embeds"] = OrtValue.CreateTensorValueFromMemory(embeds, [1, seq, h]),
                ["attention_mask"] = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, total).ToArray(), [1, total]),
                ["position_ids"] = OrtValue.CreateTensorValueFromMemory(Enumerable.Range(length, seq).Select(i => (long)i).ToArray(), [1, seq]),
            };
            for (int i = 0; i < pastNames.Length; i++)
            {
                inputs[pastNames[i]] = OrtValue.CreateTensorValueFromMemory(past[i], [1, kvh, length, hd]);
            }

            using var run = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outs = standard.Run(run, inputs.Keys.ToArray(), inputs.Values.ToArray(), ["logits", .. presentNames]);
            float[] expected = outs[0].GetTensorDataAsSpan<float>()[((seq - 1) * vocab)..].ToArray();
            for (int i = 0; i < pastNames.Length; i++)
            {
                past[i] = outs[i + 1].GetTensorDataAsSpan<float>().ToArray();
            }

            foreach (OrtValue v in inputs.Values)
            {
                v.Dispose();
            }

            // the fused graph: the same buffers as past and present, the two lengths
            float[] logits = new float[vocab];
            using OrtValue e = OrtValue.CreateTensorValueFromMemory(embeds, [1, seq, h]);
            using OrtValue seqlens = OrtValue.CreateTensorValueFromMemory(new[] { total - 1 }, [1]);
            using OrtValue totalValue = OrtValue.CreateTensorValueFromMemory(new[] { total }, []);
            using OrtValue logitsValue = OrtValue.CreateTensorValueFromMemory(logits, [1, 1, vocab]);
            fast.Run(run, ["inputs_embeds", "seqlens_k", "total_sequence_length", .. pastNames], [e, seqlens, totalValue, .. sharedValues], ["logits", .. presentNames], [logitsValue, .. sharedValues]);

            double cos = VectorMath.Cosine(expected, logits);
            float maxDiff = expected.Zip(logits, (a, b) => MathF.Abs(a - b)).Max();
            output.WriteLine($"step of {seq} at {length}: cosine {cos:F7}, max abs diff {maxDiff:G3}");
            Assert.True(cos >= 0.99999, $"cosine {cos}");
            Assert.True(maxDiff < 1e-2, $"max abs diff {maxDiff}");

            // and the shared buffer holds the standard present, position by position
            for (int i = 0; i < pastNames.Length; i++)
            {
                for (int head = 0; head < kvh; head++)
                {
                    for (int t = 0; t < total; t++)
                    {
                        for (int j = 0; j < hd; j++)
                        {
                            float a = past[i][(((head * total) + t) * hd) + j];
                            float b = shared[i][(((head * cap) + t) * hd) + j];
                            Assert.True(MathF.Abs(a - b) < 1e-3, $"{pastNames[i]} head {head} position {t}: {a} vs {b}");
                        }
                    }
                }
            }

            length = total;
        }
    }

    [Fact]
    public void Weights_AreFoundByGraphStructure_WhenTheInitializersHaveAnExportersNames()
    {
        ModelPackage package = ModelPackage.Load(s_package.Value);
        ModelProto standard = ModelProto.Parser.ParseFrom(File.ReadAllBytes(package.PathOf(package.Sessions.Sessions[SessionNames.Decoder].File)));

        // what an exporter writes: every initializer renamed (onnx::MatMul_17, …), node names gone, no rotary table by name
        ModelProto exported = standard.Clone();
        var rename = new Dictionary<string, string>(StringComparer.Ordinal);
        int i = 0;
        foreach (TensorProto t in exported.Graph.Initializer)
        {
            rename[t.Name] = $"onnx::Tensor_{i++}";
            t.Name = rename[t.Name];
        }

        foreach (NodeProto n in exported.Graph.Node)
        {
            n.Name = "";
            for (int k = 0; k < n.Input.Count; k++)
            {
                if (rename.TryGetValue(n.Input[k], out string? to))
                {
                    n.Input[k] = to;
                }
            }
        }

        Dictionary<string, TensorProto> found = DecoderWeights.FromStructure(exported);
        Dictionary<string, TensorProto> truth = standard.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        int layers = package.Manifest.Dimensions.NumLayers;
        Assert.Equal((layers * 9) + 2, found.Count);
        foreach ((string name, TensorProto t) in found)
        {
            Assert.True(truth[name].RawData.Span.SequenceEqual(t.RawData.Span), $"{name} is not the weight of that name");
        }

        ModelProto byName = FusedDecoder.Build(standard, maxContext: 512);
        ModelProto byStructure = FusedDecoder.Build(exported, maxContext: 512, ropeTheta: ModelPreset.Get(ModelPreset.DemoSmolVlm).RopeTheta);
        Assert.Equal(byName.Graph.Initializer.Select(t => t.RawData).ToArray(), byStructure.Graph.Initializer.Select(t => t.RawData).ToArray());
    }

    [Fact]
    public void CpuVariant_WithoutAQdqEncoder_QuantizesTheEncodersLinearLayersDynamically_AndKeepsItsFeatures()
    {
        // The demo package has no qdq-int8 variant: --encoder auto quantizes every linear layer of the fp32 encoder
        // dynamically (int8 weights per column, activations per call; docs/cpu-decoder.md, "The encoder").
        ModelProto encoder = VariantEncoder(s_package.Value);
        Assert.DoesNotContain(encoder.Graph.Node, n => n.OpType == "MatMul" && encoder.Graph.Initializer.Any(t => t.Name == n.Input[1]));
        NodeProto[] linear = [.. encoder.Graph.Node.Where(n => n.OpType == "DynamicQuantizeMatMul")];
        Assert.NotEmpty(linear);
        Assert.All(linear, n => Assert.Equal((int)TensorProto.Types.DataType.Int8, encoder.Graph.Initializer.Single(t => t.Name == n.Input[1]).DataType));
        AssertFusedAndFaithful(s_package.Value, encoder, "dynamically quantized encoder");
    }

    [Fact]
    public void CpuVariant_WithTheNBitsEncoder_QuantizesItsLinearLayersTo8BitMatMulNBits_AndKeepsItsFeatures()
    {
        string dir = Path.Combine(Path.GetTempPath(), "llava-edge-tests", "demo-nbits-" + Guid.NewGuid().ToString("N"));
        PackageGenerator.Generate(ModelPreset.Get(ModelPreset.DemoSmolVlm), dir);
        PackageOptimizer.Optimize(dir, 8, encoder: PackageOptimizer.EncoderChoice.NBits);
        ModelProto encoder = VariantEncoder(dir);
        Assert.DoesNotContain(encoder.Graph.Node, n => n.OpType == "MatMul" && encoder.Graph.Initializer.Any(t => t.Name == n.Input[1]));
        Assert.All(encoder.Graph.Node.Where(n => n.OpType == "MatMulNBits"), n => Assert.Equal(8, n.Attribute.Single(a => a.Name == "bits").I));
        Assert.Contains(encoder.Graph.Node, n => n.OpType == "MatMulNBits");
        AssertFusedAndFaithful(dir, encoder, "8-bit MatMulNBits encoder");
        Directory.Delete(dir, recursive: true);
    }

    private static ModelProto VariantEncoder(string dir)
    {
        ModelPackage package = ModelPackage.Load(dir, ModelVariants.CpuInt8);
        return ModelProto.Parser.ParseFrom(File.ReadAllBytes(package.PathOf(package.Sessions.Sessions[SessionNames.VisionEncoder].File)));
    }

    private void AssertFusedAndFaithful(string dir, ModelProto encoder, string what)
    {
        // its attention and GELUs fused (EncoderFusionTests holds the rewrites to the standard features)
        int layers = ModelPreset.Get(ModelPreset.DemoSmolVlm).VisionLayers;
        Assert.Equal(layers, encoder.Graph.Node.Count(n => n.OpType == "If"));
        Assert.Equal(layers, encoder.Graph.Node.Count(n => n.OpType == "BiasGelu"));

        using VlmPipeline reference = VlmPipeline.Open(new InferenceOptions { Model = dir, Variant = ModelVariants.Fp32 });
        using VlmPipeline cpu = VlmPipeline.Open(new InferenceOptions { Model = dir, Variant = ModelVariants.CpuInt8 });
        foreach (string image in Directory.GetFiles(s_golden, "*.png").Order(StringComparer.Ordinal).Take(2))
        {
            using Mat mat = Cv2.ImRead(image, ImreadModes.Color);
            byte[] bytes = new byte[mat.Step() * mat.Height];
            Marshal.Copy(mat.Data, bytes, 0, bytes.Length);
            var view = new ImageView(bytes, mat.Width, mat.Height, (int)mat.Step(), PixelFormat.Bgr24);
            float[] a = reference.Encode(new EncodeRequest(view) { Profile = CompressionProfile.Balanced }).Features;
            float[] b = cpu.Encode(new EncodeRequest(view) { Profile = CompressionProfile.Balanced }).Features;
            double cos = VectorMath.Cosine(a, b);
            output.WriteLine($"{Path.GetFileName(image)}: image features cosine {cos:F6} ({what} vs fp32)");
            Assert.True(cos >= 0.999, $"cosine {cos:F6}");
        }
    }

    [Theory]
    [InlineData(ModelVariants.CpuInt8, 0.999)]
    [InlineData(ModelVariants.CpuQ4, 0.99)]
    public void CpuVariants_GiveTheStandardGreedyAnswers_OnTheDemoModel(string variant, double minCosine)
    {
        using VlmPipeline reference = VlmPipeline.Open(new InferenceOptions { Model = s_package.Value, Variant = ModelVariants.Fp32 });
        using VlmPipeline cpu = VlmPipeline.Open(new InferenceOptions { Model = s_package.Value, Variant = variant });
        string[] images = Directory.GetFiles(s_golden, "*.png").Order(StringComparer.Ordinal).ToArray();
        Assert.True(images.Length >= 3);
        foreach (string image in images)
        {
            using Mat mat = Cv2.ImRead(image, ImreadModes.Color);
            byte[] bytes = new byte[mat.Step() * mat.Height];
            Marshal.Copy(mat.Data, bytes, 0, bytes.Length);
            var view = new ImageView(bytes, mat.Width, mat.Height, (int)mat.Step(), PixelFormat.Bgr24);
            VisualTokens tokensA = reference.Encode(new EncodeRequest(view) { Profile = CompressionProfile.Balanced });
            VisualTokens tokensB = cpu.Encode(new EncodeRequest(view) { Profile = CompressionProfile.Balanced });
            foreach (string question in new[] { "How many parcels are on the belt?", "Is there a red parcel?", "What color is the parcel on the left?" })
            {
                float[]? a = null, b = null;
                VlmAnswer expected = reference.Answer(tokensA, new GenerationRequest(question), null, l => a ??= l.ToArray());
                VlmAnswer actual = cpu.Answer(tokensB, new GenerationRequest(question), null, l => b ??= l.ToArray());
                double cos = VectorMath.Cosine(a!, b!);
                output.WriteLine($"{variant} {Path.GetFileName(image)} '{question}': '{expected.Text}' vs '{actual.Text}', first-step logits cosine {cos:F5}");
                Assert.Equal(expected.Text, actual.Text);
                Assert.True(cos >= minCosine, $"cosine {cos:F5} < {minCosine}");
            }
        }
    }

    [Fact]
    public void DecodeLoop_AllocatesNothingPerGeneratedToken()
    {
        ModelPackage package = ModelPackage.Load(s_package.Value, ModelVariants.CpuInt8);
        using ModelSessions sessions = package.OpenSessions(new OnnxSessionFactory());
        using var generator = new TextGenerator(sessions);
        Assert.True(generator.IsFused);
        long[] ids = [.. Enumerable.Range(0, 40).Select(i => (long)(300 + i))];
        float[] embeds = new float[ids.Length * generator.Hidden];
        generator.Embed(ids, embeds);

        long Allocated(int tokens)
        {
            var options = new SamplingOptions { MaxNewTokens = tokens };   // no stop token: exactly this many steps
            var sampler = new TokenSampler(generator.VocabularySize, options);
            long before = GC.GetAllocatedBytesForCurrentThread();
            GenerationResult r = generator.Generate(embeds, ids.Length, sampler, options);
            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(tokens, r.Tokens.Count);
            return bytes;
        }

        Allocated(80);   // warm-up: KV buffers sized, bindings made, code jitted

        // Steady state: the runtime may allocate once on this thread at any moment (a method tiering up while the
        // other test classes run, a pool trimmed after a collection), in either run of a pair, so one pair may be off
        // either way; a per-token allocation shows in every pair, so none would be exact.
        var extra = new List<long>();
        for (int attempt = 0; attempt < 3 && (extra.Count == 0 || extra[^1] != ListGrowth(16, 80)); attempt++)
        {
            long shortRun = Allocated(16);
            long longRun = Allocated(80);
            extra.Add(longRun - shortRun);
            output.WriteLine($"16 tokens: {shortRun} B, 80 tokens: {longRun} B allocated; per extra token {(longRun - shortRun - ListGrowth(16, 80)) / 64.0:F1} B besides the result list");
        }

        Assert.Contains(ListGrowth(16, 80), extra);
    }

    /// <summary>The result list is sized to the request up front, so its size differs by the ints it holds.</summary>
    private static long ListGrowth(int a, int b) => (long)(b - a) * sizeof(int);

    private sealed class DisposableList : IDisposable
    {
        private readonly List<IDisposable> _items = [];

        public T Add<T>(T item)
            where T : IDisposable
        {
            _items.Add(item);
            return item;
        }

        public void Dispose()
        {
            foreach (IDisposable d in _items)
            {
                d.Dispose();
            }
        }
    }
}
