using Google.Protobuf;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;
using LlavaUhd.Edge.ModelBuilder.Onnx;
using LlavaUhd.Edge.ModelBuilder.Quantization;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>The q4 variant (com.microsoft:MatMulNBits, 4-bit, block 32): packing contract, loading, drift vs FP32.</summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class NBitsQuantizerTests
{
    /// <summary>
    /// Decoder logits cosine vs FP32 the q4 variant must reach on the tiny packages' random weights. Random Gaussian
    /// weights are the worst case for 4-bit blocks (no outliers to hide behind, every bit of error is signal);
    /// measured 0.987 (tiny-smolvlm, block 16) and 0.986 (tiny-minicpmv, block 32); vision/resampler ~0.984.
    /// </summary>
    public const double DecoderCosineThreshold = 0.98;

    private readonly GeneratedPackages _packages;
    private readonly ITestOutputHelper _output;

    public NBitsQuantizerTests(GeneratedPackages packages, ITestOutputHelper output)
    {
        _packages = packages;
        _output = output;
    }

    /// <summary>
    /// ONNX Runtime's MatMulNBits on our packed weights equals A × our reference dequantization: a wrong layout (B not
    /// transposed, nibbles swapped, scales in K-major order, an 8-bit code off by its zero point) runs without error
    /// but fails this.
    /// </summary>
    [Theory]
    [InlineData(0, 4)]
    [InlineData(4, 4)]
    [InlineData(0, 8)]
    [InlineData(4, 8)]
    public void MatMulNBits_MatchesReferenceDequantization(int accuracyLevel, int bits)
    {
        const int k = 96, n = 40, m = 3;
        var rng = new Random(7);
        float[] w = Enumerable.Range(0, k * n).Select(_ => (rng.NextSingle() * 2) - 1).ToArray();
        float[] a = Enumerable.Range(0, m * k).Select(_ => (rng.NextSingle() * 2) - 1).ToArray();
        var g = new GraphBuilder("one", 1);
        g.Input("a", DataType.Float, m, k);
        g.Output("y", DataType.Float, m, n);
        g.Graph.Initializer.Add(GraphBuilder.FloatTensor("w", w, k, n));
        var mm = new NodeProto { OpType = "MatMul", Name = "mm" };
        mm.Input.AddRange(["a", "w"]);
        mm.Output.Add("y");
        g.Graph.Node.Add(mm);
        ModelProto q = NBitsQuantizer.Quantize(g.Build(), blockSize: 32, accuracyLevel, _ => bits);

        Assert.Equal(1, NBitsQuantizer.CountNBits(q));
        Assert.DoesNotContain(q.Graph.Initializer, t => t.Name == "w");
        TensorProto b = q.Graph.Initializer.Single(t => t.Name == $"w_q{bits}");
        TensorProto s = q.Graph.Initializer.Single(t => t.Name == $"w_q{bits}_scales");
        Assert.Equal([n, k / 32, 32 * bits / 8], b.Dims.ToArray());
        Assert.Equal((int)DataType.Uint8, b.DataType);
        Assert.Equal([n, k / 32], s.Dims.ToArray());

        float[] dq = NBitsQuantizer.Dequantize(b, s, k, n, 32, bits);
        float[] expected = new float[m * n];
        double err2 = 0, w2 = 0;
        for (int i = 0; i < k * n; i++)
        {
            err2 += (dq[i] - w[i]) * (double)(dq[i] - w[i]);
            w2 += w[i] * (double)w[i];
        }

        double maxError = bits == 8 ? 0.008 : 0.12;   // half a step of 1/127 or 1/7 of the block's max, relative
        Assert.True(Math.Sqrt(err2 / w2) < maxError, $"{bits}-bit relative weight error {Math.Sqrt(err2 / w2):F4}");
        for (int r = 0; r < m; r++)
        {
            for (int c = 0; c < n; c++)
            {
                double sum = 0;
                for (int j = 0; j < k; j++)
                {
                    sum += a[(r * k) + j] * (double)dq[(j * n) + c];
                }

                expected[(r * n) + c] = (float)sum;
            }
        }

        using var so = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(q.ToByteArray(), so);
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(a, [m, k]);
        using var run = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outs = session.Run(run, ["a"], [input], ["y"]);
        float[] y = outs[0].GetTensorDataAsSpan<float>().ToArray();
        // accuracy_level 4 quantizes A to int8 per block: allow its rounding (|a| ≤ 1, 1/127 steps over K = 96).
        double tol = accuracyLevel == 4 ? 0.08 : 1e-3;
        for (int i = 0; i < y.Length; i++)
        {
            Assert.True(Math.Abs(y[i] - expected[i]) < tol, $"y[{i}] = {y[i]} vs reference {expected[i]} (accuracy_level {accuracyLevel}, {bits} bits)");
        }
    }

    [Fact]
    public void MatMul_WithKNotDivisibleByBlock_StaysFloat()
    {
        var g = new GraphBuilder("one", 1);
        g.Input("a", DataType.Float, 1, 40);
        g.Output("y", DataType.Float, 1, 8);
        g.Graph.Initializer.Add(GraphBuilder.FloatTensor("w", new float[40 * 8], 40, 8));
        var mm = new NodeProto { OpType = "MatMul", Name = "mm" };
        mm.Input.AddRange(["a", "w"]);
        mm.Output.Add("y");
        g.Graph.Node.Add(mm);
        ModelProto q = NBitsQuantizer.Quantize(g.Build());
        Assert.Equal(0, NBitsQuantizer.CountNBits(q));
        Assert.Contains(q.Graph.Initializer, t => t.Name == "w");
        Assert.DoesNotContain(q.OpsetImport, o => o.Domain == NBitsQuantizer.Domain);
    }

    /// <remarks>tiny-smolvlm's text width is 16, so it runs with block 16 (with 32 only its MLP down-projection would convert).</remarks>
    [Theory]
    [InlineData(ModelPreset.TinySmolVlm, 16)]
    [InlineData(ModelPreset.TinyMiniCpmV, 32)]
    public void QuantizeQ4_LoadsAsVariant_DecoderLogitsCloseToFp32(string preset, int blockSize)
    {
        string dir = _packages.CopyOf(preset);
        ModelManifest m = ModelPackage.Load(dir).Manifest;
        int size = m.Family == ModelFamilies.SmolVlm ? m.Dimensions.ImageSize : m.Slicing.ScaleResolution;
        IReadOnlyList<SessionReport> reports = PackageQuantizer.QuantizeQ4(dir, QuantizerTests.Views(size, 2, seed: 2), blockSize);

        Assert.Equal(m.Variants["fp32"].Sessions.Count, reports.Count);
        foreach (SessionReport r in reports)
        {
            _output.WriteLine($"{preset} {r.Session}: {r.BytesFp32 / 1e6:F2} MB -> {r.BytesInt8 / 1e6:F2} MB, cosine({r.ComparedOutput}) {r.Cosine:F5}, max abs err {r.MaxAbsErr:G4}");
        }

        SessionReport decoder = reports.Single(r => r.Session == SessionNames.Decoder);
        Assert.Equal("logits", decoder.ComparedOutput);
        Assert.True(decoder.Cosine >= DecoderCosineThreshold, $"decoder logits cosine {decoder.Cosine:F5} < {DecoderCosineThreshold}");
        Assert.True(decoder.BytesInt8 < decoder.BytesFp32 / 4, $"decoder {decoder.BytesInt8} bytes vs fp32 {decoder.BytesFp32}");
        foreach (SessionReport r in reports)
        {
            Assert.True(r.Cosine >= 0.95, $"{r.Session}: cosine {r.Cosine:F4} < 0.95");
        }

        ModelPackage q = ModelPackage.Load(dir, ModelVariants.Q4);
        Assert.Equal(ModelVariants.Q4, q.Variant);
        string decoderFile = q.Sessions.Sessions[SessionNames.Decoder].File;
        Assert.EndsWith("_q4.onnx", decoderFile, StringComparison.Ordinal);
        ModelProto proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(q.PathOf(decoderFile)));
        Assert.True(NBitsQuantizer.CountNBits(proto) > 0);
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "MatMul" && proto.Graph.Initializer.Any(t => t.Name == n.Input[1]));
        using ModelSessions sessions = q.OpenSessions(new OnnxSessionFactory());
        Assert.Equal(m.Variants["fp32"].Sessions.Count, sessions.All.Count);
        Assert.Equal(ModelVariants.Fp32, ModelPackage.Load(dir).Variant);
    }
}
