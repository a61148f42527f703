using LlavaUhd.Edge.Cli.Commands;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Tests;

public sealed class SlicesCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("llava-slices-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Overlay_DrawsTheGridOnTheImage_AtTheSlicesFootprints()
    {
        string image = Path.Combine(_dir, "flat.png");
        using (var flat = new Mat(1080, 1920, MatType.CV_8UC3, new Scalar(128, 128, 128)))
        {
            Cv2.ImWrite(image, flat);
        }

        string overlay = Path.Combine(_dir, "overlay.png");
        SlicePlan plan = SlicesCommand.Draw(image, SlicingOptions.For(SliceScheme.MiniCpmV), overlay);

        using Mat drawn = Cv2.ImRead(overlay);
        Assert.Equal(new Size(1920, 1080), drawn.Size());
        // A 4×2 grid: the inner vertical line at x = 480 and the horizontal one at y = 540 are drawn,
        // a point inside a slice far from labels stays the original grey.
        Assert.Equal(new GridSize(4, 2), plan.Grid);
        Assert.NotEqual(new Vec3b(128, 128, 128), drawn.At<Vec3b>(800, 480));
        Assert.NotEqual(new Vec3b(128, 128, 128), drawn.At<Vec3b>(540, 200));
        Assert.Equal(new Vec3b(128, 128, 128), drawn.At<Vec3b>(800, 700));
    }

    [Fact]
    public void MissingImage_IsAClearError()
    {
        var ex = Assert.Throws<CliException>(() => SlicesCommand.Draw(Path.Combine(_dir, "nope.png"), SlicingOptions.For(SliceScheme.MiniCpmV), Path.Combine(_dir, "o.png")));

        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedImage_IsAClearError()
    {
        string good = Path.Combine(_dir, "good.png");
        using (var m = new Mat(64, 64, MatType.CV_8UC3, Scalar.All(10)))
        {
            Cv2.ImWrite(good, m);
        }

        byte[] bytes = File.ReadAllBytes(good);
        string bad = Path.Combine(_dir, "truncated.png");
        File.WriteAllBytes(bad, bytes.AsSpan(0, 20).ToArray());

        var ex = Assert.Throws<CliException>(() => SlicesCommand.Draw(bad, SlicingOptions.For(SliceScheme.MiniCpmV), Path.Combine(_dir, "o.png")));

        Assert.Contains("could not be decoded", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RealProcess_SampleThenSlices_WritesTheOverlay()
    {
        string sample = Path.Combine(_dir, "sample.png");
        string overlay = Path.Combine(_dir, "overlay.png");

        (int c1, _, string e1) = CliProcess.Run(string.Empty, "sample", "--size", "1280x720", "--out", sample);
        (int c2, string o2, string e2) = CliProcess.Run(string.Empty, "slices", sample, "--scheme", "idefics3", "--out", overlay);

        Assert.True(c1 == 0, e1);
        Assert.True(c2 == 0, e2);
        Assert.Contains("idefics3 1280x720", o2, StringComparison.Ordinal);
        Assert.Contains("13 views, 832 tokens", o2, StringComparison.Ordinal);
        using Mat drawn = Cv2.ImRead(overlay);
        Assert.Equal(new Size(1280, 720), drawn.Size());
    }
}
