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

    [Theory]
    [InlineData(ModelPreset.TinySmolVlm, CalibrationMethod.MinMax)]
    [InlineData(ModelPreset.TinyMiniCpmV, CalibrationMethod.Percentile)]
    [InlineData(ModelPreset.TinyMiniCpmV, CalibrationMethod.Entropy)]
    public void Quantize_PerChannel_CosineAtLeast099(string preset, CalibrationMethod method)
    {
        string dir = _packages.CopyOf(preset);
        ModelManifest m = ModelPackage.Load(dir).Manifest;
        int size = m.Family == ModelFamilies.SmolVlm ? m.Dimensions.ImageSize : m.Slicing.ScaleResolution;
        IReadOnlyList<SessionReport> reports = PackageQuantizer.Quantize(dir, Views(size, 4, seed: 1), Views(size, 2, seed: 2), method, perChannel: true);

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
