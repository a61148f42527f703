using LlavaUhd.Edge.Capture.Sources;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Tests.Fakes;

/// <summary>Videos the tests write themselves (MJPG in AVI): the test pattern, whose moving square's box is known per frame.</summary>
internal static class TestVideos
{
    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "llava-capture-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Writes <paramref name="frames"/> frames of the moving-square pattern; frame n shows <see cref="TestPatternSource.SquareAt"/>(size, n).</summary>
    public static string WritePattern(string path, int width = 320, int height = 240, int frames = 60, double fps = 30)
    {
        var size = new Size(width, height);
        using var pattern = new TestPatternSource(new CameraOptions { Id = "gen", Source = $"testpattern:{width}x{height}" });
        pattern.Open();
        using var writer = new VideoWriter(path, FourCC.MJPG, fps, size);
        Assert.True(writer.IsOpened(), "VideoWriter could not open an MJPG AVI");
        using var frame = new Mat();
        for (int i = 0; i < frames; i++)
        {
            pattern.Read(frame);
            writer.Write(frame);
        }

        return path;
    }

    /// <summary>Waits until <paramref name="condition"/> holds or the timeout passes.</summary>
    public static bool WaitFor(Func<bool> condition, int timeoutMs = 5000)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(10);
        }

        return condition();
    }
}
