using System.Runtime.InteropServices;
using Google.Protobuf;
using LlavaUhd.Edge.ModelBuilder.Generation;
using LlavaUhd.Edge.ModelBuilder.Onnx;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// Progressive compression in the llava-uhd encoder (docs/llava-uhd.md, "Progressive compression"): the window merge
/// ONNX Runtime computes equals the definition (each window's tokens concatenated row-major, odd sides zero-padded,
/// LayerNorm, linear map), and a package with it keeps the family's contract with fewer tokens per view.
/// </summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class ProgressiveCompressionTests
{
    private const int D = 3;
    private readonly GeneratedPackages _packages;

    public ProgressiveCompressionTests(GeneratedPackages packages) => _packages = packages;

    [Theory]
    [InlineData(4, 6, 2)]
    [InlineData(5, 7, 2)]   // odd sides: the last window row and column are half zeros
    [InlineData(1, 1, 2)]
    [InlineData(7, 5, 3)]
    public void WindowMerge_EqualsConcatenatedWindowsThroughLayerNormAndTheReduction(int rows, int cols, int window)
    {
        var g = new GraphBuilder("merge", seed: 5);
        g.Input("x", DataType.Float, 1L, "tokens", (long)D);
        g.Input("rows", DataType.Int64, 1L);
        g.Input("cols", DataType.Int64, 1L);
        g.Node("Identity", [g.WindowMerge("x", "rows", "cols", "m", D, window)], "y");
        g.Output("y", DataType.Float, 1L, "merged", (long)D);
        ModelProto model = g.Build();
        float[] w = MemoryMarshal.Cast<byte, float>(model.Graph.Initializer.Single(t => t.Name == "m.reduction.weight").RawData.Span).ToArray();

        var rng = new Random(rows * 31 + cols);
        float[] x = [.. Enumerable.Range(0, rows * cols * D).Select(_ => (float)((rng.NextDouble() * 4) - 2))];
        using var session = new InferenceSession(model.ToByteArray());
        using var xs = OrtValue.CreateTensorValueFromMemory(x, [1, rows * cols, D]);
        using var rs = OrtValue.CreateTensorValueFromMemory(new long[] { rows }, [1]);
        using var cs = OrtValue.CreateTensorValueFromMemory(new long[] { cols }, [1]);
        using IDisposableReadOnlyCollection<OrtValue> output = session.Run(new RunOptions(), ["x", "rows", "cols"], [xs, rs, cs], ["y"]);

        int outRows = (rows + window - 1) / window, outCols = (cols + window - 1) / window, width = window * window * D;
        Assert.Equal([1L, outRows * outCols, D], output[0].GetTensorTypeAndShape().Shape);
        ReadOnlySpan<float> y = output[0].GetTensorDataAsSpan<float>();
        for (int r = 0; r < outRows; r++)
        {
            for (int c = 0; c < outCols; c++)
            {
                var v = new double[width];
                for (int i = 0; i < window * window; i++)
                {
                    int pr = (r * window) + (i / window), pc = (c * window) + (i % window);
                    for (int k = 0; k < D && pr < rows && pc < cols; k++)
                    {
                        v[(i * D) + k] = x[(((pr * cols) + pc) * D) + k];
                    }
                }

                double mean = v.Average(), sd = Math.Sqrt(v.Select(a => (a - mean) * (a - mean)).Average() + 1e-6);
                for (int o = 0; o < D; o++)
                {
                    double expected = Enumerable.Range(0, width).Sum(j => (v[j] - mean) / sd * w[(j * D) + o]);
                    Assert.Equal(expected, y[(((r * outCols) + c) * D) + o], 4);
                }
            }
        }
    }

    [Theory]
    [InlineData(8, 8, 16)]
    [InlineData(5, 7, 12)]
    public void TheV3Encoder_GivesOneTokenPerWindow_WithStandardOpsOnly(int rows, int cols, int tokens)
    {
        ModelPreset preset = ModelPreset.Get(ModelPreset.TinyLlavaUhdV3);
        string file = Path.Combine(_packages.Get(ModelPreset.TinyLlavaUhdV3), "onnx", "vision_encoder.onnx");
        ModelProto graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
        int p = preset.PatchSize;
        long[] positions = [.. Enumerable.Range(0, rows * cols).Select(i => (long)i)];

        using var session = new InferenceSession(file);
        using var pixels = OrtValue.CreateTensorValueFromMemory(new float[3 * rows * p * cols * p], [1, 3, rows * p, cols * p]);
        using var ids = OrtValue.CreateTensorValueFromMemory(positions, [1, rows * cols]);
        using IDisposableReadOnlyCollection<OrtValue> output = session.Run(new RunOptions(), ["pixel_values", "patch_position_ids"], [pixels, ids], ["vision_features"]);

        Assert.Equal([1L, tokens, preset.VisionHidden], output[0].GetTensorTypeAndShape().Shape);
        Assert.All(graph.Graph.Node, n => Assert.Equal("", n.Domain));
        Assert.Contains(graph.Graph.Initializer, t => t.Name == "encoder.merge.reduction.weight");
        Assert.Equal(preset.MergeLayer, System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(file, "..", "..", "config.json")))!["vision_config"]!["merge_layer"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(2, "llava-uhd", 2)]   // not between two layers of a 2-layer encoder
    [InlineData(-1, "llava-uhd", 2)]
    [InlineData(1, "llava-uhd", 1)]   // a window of one merges nothing
    [InlineData(1, "smolvlm", 2)]
    public void FromWeights_AMergeThatCannotBe_IsRefused(int layer, string family, int window)
    {
        ModelPreset tiny = ModelPreset.Get(family == "smolvlm" ? ModelPreset.TinySmolVlm : ModelPreset.TinyLlavaUhd);
        (byte[] json, byte[] bin) = TrainedWeightsTests.Write(tiny, [("model.norm.weight", [tiny.TextHidden], new float[tiny.TextHidden], -1, [])]);
        var doc = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        doc["preset"]!["merge_layer"] = layer;
        doc["preset"]!["merge_window"] = window;

        var ex = Assert.Throws<InvalidDataException>(() => ModelPreset.FromWeights("bad", TrainedWeights.Load(System.Text.Encoding.UTF8.GetBytes(doc.ToJsonString()), bin)));
        Assert.Contains("merge_layer", ex.Message, StringComparison.Ordinal);
    }
}
