using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;
using LlavaUhd.Edge.ModelBuilder.Quantization;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>The QDQ INT8 variant loads as a variant of the package and stays close to FP32.</summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class QuantizerTests
{
    private readonly GeneratedPackages _packages;

    public QuantizerTests(GeneratedPackages packages) => _packages = packages;

    /// <summary>
    /// Reduced-range weights make ONNX Runtime's integer kernels exact on every CPU (no 16-bit saturation with or
    /// without VNNI, docs/quantization.md), so this bar holds on whatever CPU runs the test.
    /// </summary>
    [Theory]
    [InlineData(ModelPreset.TinySmolVlm, CalibrationMethod.MinMax)]
    [InlineData(ModelPreset.TinyMiniCpmV, CalibrationMethod.Percentile)]
    [InlineData(ModelPreset.TinyMiniCpmV, CalibrationMethod.Entropy)]
    public void Quantize_ReducedRangePerChannel_CosineAtLeast099OnEveryCpu(string preset, CalibrationMethod method)
    {
        string dir = _packages.CopyOf(preset);
        IReadOnlyList<SessionReport> reports = QuantizeAndCheck(dir, method, WeightRange.Reduced);
        Assert.All(reports, r => Assert.Equal(WeightRange.Reduced, r.WeightRange));
    }

    /// <summary>Auto picks the range this CPU computes exactly (full with VNNI or on ARM64, reduced on x86-64 without VNNI) and says which.</summary>
    [Fact]
    public void Quantize_Auto_ChoosesTheRangeThisCpuComputesExactly_AndReportsWhy()
    {
        (bool exact, string reason) = Int8WeightRanges.ThisCpu();
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        IReadOnlyList<SessionReport> reports = QuantizeAndCheck(dir, CalibrationMethod.MinMax, WeightRange.Auto);
        Assert.All(reports, r =>
        {
            Assert.Equal(exact ? WeightRange.Full : WeightRange.Reduced, r.WeightRange);
            Assert.Equal(reason, r.WeightRangeReason);
        });
    }

    [Fact]
    public void Quantize_ReducedRange_EveryWeightFitsTheSaturationFreeBound()
    {
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        QuantizeAndCheck(dir, CalibrationMethod.MinMax, WeightRange.Reduced);
        foreach (string file in Directory.EnumerateFiles(Path.Combine(dir, "onnx"), "*_qdq_int8.onnx"))
        {
            Onnx.ModelProto model = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
            int weights = 0;
            foreach (Onnx.TensorProto t in model.Graph.Initializer.Where(t => t.DataType == (int)Onnx.TensorProto.Types.DataType.Int8 && t.Dims.Count >= 2))
            {
                weights++;
                int max = 0;
                foreach (byte b in t.RawData.Span)
                {
                    max = Math.Max(max, Math.Abs((int)(sbyte)b));
                }

                // vpmaddubsw adds two u8·s8 products in a signed 16-bit lane: 2 · 255 · |w| must fit.
                Assert.True(2 * 255 * max <= short.MaxValue, $"{Path.GetFileName(file)} {t.Name}: |w| up to {max}");
            }

            Assert.True(weights > 0, $"{Path.GetFileName(file)} has no int8 weights");
        }
    }

    [Fact]
    public void Quantize_FullRange_UsesTheWholeInt8Range()
    {
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        ModelManifest m = ModelPackage.Load(dir).Manifest;
        IReadOnlyList<SessionReport> reports = PackageQuantizer.Quantize(dir, Views(m.Dimensions.ImageSize, 4, seed: 1), Views(m.Dimensions.ImageSize, 2, seed: 2), CalibrationMethod.MinMax, perChannel: true, weightRange: WeightRange.Full);
        Assert.All(reports, r => Assert.Equal("chosen explicitly", r.WeightRangeReason));
        Onnx.ModelProto model = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "onnx", "decoder_model_merged_qdq_int8.onnx")));
        int max = model.Graph.Initializer.Where(t => t.DataType == (int)Onnx.TensorProto.Types.DataType.Int8 && t.Dims.Count >= 2)
            .Max(t => t.RawData.ToByteArray().Max(b => Math.Abs((int)(sbyte)b)));
        Assert.Equal(127, max);
    }

    [Fact]
    public void QuantizedEmbedding_GathersInt8Rows_AndDequantizesOnlyThose_Exactly()
    {
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        QuantizeAndCheck(dir, CalibrationMethod.MinMax, WeightRange.Reduced);
        string file = Path.Combine(dir, "onnx", "embed_tokens_qdq_int8.onnx");
        Onnx.ModelProto model = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
        Onnx.TensorProto table = model.Graph.Initializer.Single(t => t.DataType == (int)Onnx.TensorProto.Types.DataType.Int8 && t.Dims.Count == 2);
        Onnx.TensorProto scales = model.Graph.Initializer.Single(t => t.Name == table.Name.Replace("_quantized", "_scale", StringComparison.Ordinal));

        // no float copy of the whole table: nothing dequantizes it; the Gather reads the int8 table itself
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "DequantizeLinear" && n.Input.Contains(table.Name));
        Assert.Contains(model.Graph.Node, n => n.OpType == "Gather" && n.Input[0] == table.Name);

        int width = (int)table.Dims[1];
        long[] ids = [0, 5, 17, 5, 300];
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(file);
        string input = session.InputNames.Single();
        using var feed = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using Microsoft.ML.OnnxRuntime.IDisposableReadOnlyCollection<Microsoft.ML.OnnxRuntime.OrtValue> outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), [input], [feed], session.OutputNames);
        float[] actual = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        ReadOnlySpan<sbyte> q = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(table.RawData.Span);
        ReadOnlySpan<float> s = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(scales.RawData.Span);
        Assert.Equal(ids.Length * width, actual.Length);
        for (int r = 0; r < ids.Length; r++)
        {
            for (int c = 0; c < width; c++)
            {
                Assert.Equal(q[(int)ids[r] * width + c] * s[(int)ids[r]], actual[r * width + c]);
            }
        }
    }

    private static IReadOnlyList<SessionReport> QuantizeAndCheck(string dir, CalibrationMethod method, WeightRange range)
    {
        ModelManifest m = ModelPackage.Load(dir).Manifest;
        int size = m.Family == ModelFamilies.SmolVlm ? m.Dimensions.ImageSize : m.Slicing.ScaleResolution;
        IReadOnlyList<SessionReport> reports = PackageQuantizer.Quantize(dir, Views(size, 4, seed: 1), Views(size, 2, seed: 2), method, perChannel: true, weightRange: range);

        Assert.Equal(m.Variants["fp32"].Sessions.Count, reports.Count);
        foreach (SessionReport r in reports)
        {
            Assert.True(r.Cosine >= 0.99, $"{r.Session}: cosine {r.Cosine:F4} < 0.99 (max abs err {r.MaxAbsErr:G3})");
        }

        Assert.True(reports.Single(r => r.Session == SessionNames.Decoder).BytesInt8 < reports.Single(r => r.Session == SessionNames.Decoder).BytesFp32 / 2);

        ModelPackage q = ModelPackage.Load(dir, ModelVariants.QdqInt8);
        Assert.EndsWith("_qdq_int8.onnx", q.Sessions.Sessions[SessionNames.VisionEncoder].File, StringComparison.Ordinal);
        using ModelSessions sessions = q.OpenSessions(new OnnxSessionFactory());
        Assert.Equal(m.Variants["fp32"].Sessions.Count, sessions.All.Count);
        Assert.Equal(ModelVariants.Fp32, ModelPackage.Load(dir).Variant);
        return reports;
    }

    /// <summary>Smooth synthetic views (gradients and blobs) in [-1, 1], CHW.</summary>
    internal static List<float[]> Views(int size, int count, int seed)
    {
        var rng = new Random(seed);
        var views = new List<float[]>();
        for (int n = 0; n < count; n++)
        {
            float[] v = new float[3 * size * size];
            float fx = rng.NextSingle() * 6, fy = rng.NextSingle() * 6, phase = rng.NextSingle() * 3;
            for (int c = 0; c < 3; c++)
            {
                for (int y = 0; y < size; y++)
                {
                    for (int x = 0; x < size; x++)
                    {
                        v[(c * size * size) + (y * size) + x] = MathF.Sin((fx * x / size) + (fy * y / size) + phase + c) * 0.9f;
                    }
                }
            }

            views.Add(v);
        }

        return views;
    }
}
