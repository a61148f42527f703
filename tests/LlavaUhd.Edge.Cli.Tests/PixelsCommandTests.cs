using System.Text.Json;
using LlavaUhd.Edge.Cli.Commands;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Tests;

public sealed class PixelsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("llava-pixels-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Image(int w, int h)
    {
        string path = Path.Combine(_dir, "img.png");
        using var m = new Mat(h, w, MatType.CV_8UC3);
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                m.Set(y, x, new Vec3b((byte)(x * 255 / w), (byte)(y * 255 / h), (byte)((x ^ y) & 255)));
            }
        }

        Cv2.ImWrite(path, m);
        return path;
    }

    [Fact]
    public void Preprocess_WritesEveryViewAsNpy_AndViewsJson()
    {
        string image = Image(700, 400);
        string outDir = Path.Combine(_dir, "out");
        var (code, stdout, stderr) = CliProcess.Run("", "preprocess", image, "--scheme", "minicpmv", "--scale-resolution", "112", "--roi", "10,20,600,300", "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("wrote", stdout, StringComparison.Ordinal);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "views.json")));
        JsonElement views = doc.RootElement.GetProperty("views");
        Assert.Equal("minicpmv", doc.RootElement.GetProperty("scheme").GetString());
        SlicePlan plan = SlicePlanner.Plan(new PixelSize(600, 300), SlicingOptions.For(SliceScheme.MiniCpmV) with { ScaleResolution = 112 });
        Assert.Equal(plan.Views.Length, views.GetArrayLength());
        foreach (JsonElement v in views.EnumerateArray())
        {
            int[] shape = [.. v.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32())];
            Assert.Equal(3, shape[0]);
            byte[] npy = File.ReadAllBytes(Path.Combine(outDir, v.GetProperty("file").GetString()!));
            Assert.Equal(0x93, npy[0]);
            int headerLen = npy[8] | (npy[9] << 8);
            string header = System.Text.Encoding.ASCII.GetString(npy, 10, headerLen);
            Assert.Contains($"'shape': ({shape[0]}, {shape[1]}, {shape[2]})", header, StringComparison.Ordinal);
            Assert.Equal(0, (10 + headerLen) % 64);
            Assert.Equal(10 + headerLen + (shape[0] * shape[1] * shape[2] * 4), npy.Length);
            int[] source = [.. v.GetProperty("source").EnumerateArray().Select(e => e.GetInt32())];
            Assert.True(source[0] >= 10 && source[1] >= 20, "source rectangles are in image coordinates");
        }
    }

    [Theory]
    [InlineData("650,0,100,100", "outside")]
    [InlineData("0,0,0,10", "zero size")]
    [InlineData("1,2,3", "x,y,w,h")]
    public void Preprocess_BadRoi_IsAClearError(string roi, string expected)
    {
        string image = Image(700, 400);
        var (code, _, stderr) = CliProcess.Run("", "preprocess", image, "--scheme", "minicpmv", "--roi", roi, "--out", Path.Combine(_dir, "o"));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Preprocess_TruncatedImage_IsAClearError()
    {
        string image = Image(64, 64);
        byte[] bytes = File.ReadAllBytes(image);
        string truncated = Path.Combine(_dir, "cut.png");
        File.WriteAllBytes(truncated, bytes.AsSpan(0, 40).ToArray());
        var (code, _, stderr) = CliProcess.Run("", "preprocess", truncated, "--scheme", "idefics3", "--out", Path.Combine(_dir, "o"));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("truncated", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void BenchPixels_Json_PrintsExactlyTheThreeFields()
    {
        var (code, stdout, stderr) = CliProcess.Run("", "bench", "pixels", "--size", "320x240", "--scheme", "idefics3", "--longest-edge", "512", "--frames", "3", "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout.Trim());
        Assert.Equal(["median_ms", "p90_ms", "alloc_bytes_per_frame"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.True(doc.RootElement.GetProperty("median_ms").GetDouble() > 0);
    }
}
