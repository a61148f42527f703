using System.Runtime.InteropServices;
using Google.Protobuf;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.ModelBuilder.Onnx;
using LlavaUhd.Edge.ModelBuilder.Quantization;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// <see cref="DynamicQuantizer"/> (the CPU variant's `--encoder dynamic`, docs/cpu-decoder.md): int8 weights per
/// column inside the weight range the CPU can multiply without saturating, and ONNX Runtime's DynamicQuantizeMatMul on
/// them equal to A × the dequantized weights up to the activations' own 8-bit step.
/// </summary>
public sealed class DynamicQuantizerTests
{
    private const int K = 96, N = 40, M = 5;

    [Theory]
    [InlineData(WeightRange.Full, 127)]
    [InlineData(WeightRange.Reduced, 64)]
    public void Codes_StayInTheRange(WeightRange range, int max)
    {
        (_, sbyte[] b, _) = Quantized(range);

        Assert.All(b, c => Assert.InRange((int)c, -max, max));
        Assert.Equal(max, b.Max(c => Math.Abs((int)c)));   // the largest weight of some column takes the top code
    }

    /// <summary>With the range this CPU resolves to (full with VNNI or on ARM64, reduced on x86-64 without it).</summary>
    [Fact]
    public void OnnxRuntime_ComputesAWithTheDequantizedWeights()
    {
        const int k = K, n = N, m = M;
        (ModelProto q, sbyte[] b, float[] scales) = Quantized(Int8WeightRanges.Resolve(WeightRange.Auto).Range);

        var rng = new Random(9);
        float[] x = [.. Enumerable.Range(0, m * k).Select(_ => (float)((rng.NextDouble() * 2) - 1))];
        using var session = new InferenceSession(q.ToByteArray());
        using var input = OrtValue.CreateTensorValueFromMemory(x, [m, k]);
        using var run = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> result = session.Run(run, ["x"], [input], ["y"]);
        float[] y = result[0].GetTensorDataAsSpan<float>().ToArray();

        float[] expected = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int t = 0; t < k; t++)
                {
                    sum += x[(i * k) + t] * b[(t * n) + j] * (double)scales[j];
                }

                expected[(i * n) + j] = (float)sum;
            }
        }

        Assert.True(VectorMath.Cosine(expected, y) >= 0.9995, $"cosine {VectorMath.Cosine(expected, y):F6}");
    }

    private static (ModelProto Model, sbyte[] Codes, float[] Scales) Quantized(WeightRange range)
    {
        var g = new GraphBuilder("linear", seed: 3);
        g.Input("x", DataType.Float, (long)M, (long)K);
        g.Node("MatMul", ["x", g.Random("w", 0.2f, K, N)], "y");
        g.Output("y", DataType.Float, (long)M, (long)N);
        ModelProto q = DynamicQuantizer.Quantize(g.Build(), range);

        NodeProto node = Assert.Single(q.Graph.Node);
        Assert.Equal("DynamicQuantizeMatMul", node.OpType);
        TensorProto codes = q.Graph.Initializer.Single(t => t.Name == node.Input[1]);
        Assert.Equal((int)DataType.Int8, codes.DataType);
        float[] scales = MemoryMarshal.Cast<byte, float>(q.Graph.Initializer.Single(t => t.Name == node.Input[2]).RawData.Span).ToArray();
        return (q, MemoryMarshal.Cast<byte, sbyte>(codes.RawData.Span).ToArray(), scales);
    }

    [Fact]
    public void AnUnresolvedRange_IsRefused()
    {
        var g = new GraphBuilder("linear", seed: 3);
        g.Input("x", DataType.Float, 1L, 8L);
        g.Node("MatMul", ["x", g.Random("w", 0.2f, 8, 4)], "y");
        g.Output("y", DataType.Float, 1L, 4L);

        var ex = Assert.Throws<ArgumentException>(() => DynamicQuantizer.Quantize(g.Build(), WeightRange.Auto));
        Assert.Contains("Int8WeightRanges.Resolve", ex.Message, StringComparison.Ordinal);
    }
}
