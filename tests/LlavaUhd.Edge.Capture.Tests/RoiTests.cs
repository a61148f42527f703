using LlavaUhd.Edge.Capture.Errors;
using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Capture.Tests.Fakes;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Tests;

public sealed class RoiTests
{
    [Theory]
    [InlineData(MotionMethod.FrameDifference)]
    [InlineData(MotionMethod.Mog2)]
    public void Motion_MovingSquareInVideo_BoxMapsBackToNativePixels(MotionMethod method)
    {
        string dir = TestVideos.TempDirectory();
        string video = TestVideos.WritePattern(Path.Combine(dir, "square.avi"), 320, 240, 40);
        var options = new CameraOptions { Id = "cam", Source = video, Motion = new MotionOptions { Method = method, ProcessWidth = 80, PaddingFraction = 0, MergeDistanceFraction = 0.05 } };
        using var source = new OpenCvCameraSource(options);
        using var selector = RoiSelector.FromOptions(options);
        using var buffer = new FrameBuffer();
        source.Open();
        var regions = new List<Region>();
        var size = new Size(320, 240);
        int checkedFrames = 0;
        for (int n = 0; n < 40 && source.Read(buffer.Mat); n++)
        {
            using var frame = new Frame(buffer.View(), DateTimeOffset.UnixEpoch.AddMilliseconds(n * 33), n, "cam");
            selector.Select(frame, regions, buffer.Mat);
            if (n < 20)
            {
                continue; // the first frame primes the background; MOG2 then shows a "ghost" where the square started, until it is far enough to be a separate box
            }

            Region[] motion = regions.Where(r => r.Reason == RegionReason.Motion).ToArray();
            Assert.NotEmpty(motion);
            Rect square = TestPatternSource.SquareAt(size, n);
            var sq = new PixelRect(square.X, square.Y, square.Width, square.Height);

            // The boxes are in native pixels (not the 80-px-wide copy) and cover the square's current position...
            long covered = motion.Sum(r => r.Rect.Intersect(sq).Size.Area);
            Assert.True(covered >= sq.Size.Area * 8 / 10, $"frame {n}: boxes {string.Join(' ', motion.Select(m => m.Rect))} do not cover square {sq}");

            // ...and are tight: the square (plus its previous position) and a margin of at most 5 pixels of the
            // 80-px copy (blur 2 + dilation 2 + rounding 1) = 20 native pixels on each side.
            Region box = motion.MaxBy(r => r.Rect.Intersect(sq).Size.Area);
            Assert.InRange(box.Rect.Height, square.Height - 4, square.Height + 40);
            Assert.True(box.Rect.Width >= 4 && box.Rect.Width <= square.Width + 5 + 40, $"frame {n}: box {box.Rect}, square {sq}");
            Assert.Equal(box.Rect.Width, box.Pixels.Width);
            checkedFrames++;
        }

        Assert.True(checkedFrames >= 18);
    }

    [Fact]
    public void Motion_StillScene_FindsNothing()
    {
        using var detector = new MotionDetector(new MotionOptions { Method = MotionMethod.FrameDifference });
        using var still = new Mat(240, 320, MatType.CV_8UC3, new Scalar(30, 60, 90));
        var boxes = new List<PixelRect>();
        for (int i = 0; i < 5; i++)
        {
            detector.Detect(still, DateTimeOffset.UnixEpoch, boxes);
        }

        Assert.Empty(boxes);
    }

    [Fact]
    public void Motion_MaxRegionsAndCooldown_AreApplied()
    {
        var options = new MotionOptions { Method = MotionMethod.FrameDifference, MaxRegions = 2, MergeDistanceFraction = 0, PaddingFraction = 0, CooldownMs = 500, ProcessWidth = 320 };
        using var detector = new MotionDetector(options);
        using var a = new Mat(240, 320, MatType.CV_8UC3, Scalar.Black);
        using var b = a.Clone();
        Cv2.Rectangle(b, new Rect(10, 10, 30, 30), Scalar.White, -1);
        Cv2.Rectangle(b, new Rect(150, 100, 40, 40), Scalar.White, -1);
        Cv2.Rectangle(b, new Rect(260, 180, 20, 20), Scalar.White, -1);
        var t0 = DateTimeOffset.UnixEpoch;
        var boxes = new List<PixelRect>();
        detector.Detect(a, t0, boxes);
        detector.Detect(b, t0.AddMilliseconds(10), boxes);
        Assert.Equal(2, boxes.Count);
        Assert.True(boxes[0].Size.Area >= boxes[1].Size.Area);

        // b again: no change, but within the cooldown the last boxes are held.
        boxes.Clear();
        detector.Detect(b, t0.AddMilliseconds(100), boxes);
        Assert.Equal(2, boxes.Count);
        boxes.Clear();
        detector.Detect(b, t0.AddMilliseconds(1000), boxes);
        Assert.Empty(boxes);
    }

    [Fact]
    public void MergeNearby_JoinsCloseBoxes_KeepsFarOnes()
    {
        var boxes = new List<PixelRect> { new(0, 0, 10, 10), new(12, 0, 10, 10), new(100, 100, 5, 5) };
        MotionDetector.MergeNearby(boxes, 3);
        Assert.Equal([new PixelRect(0, 0, 22, 10), new PixelRect(100, 100, 5, 5)], boxes);
    }

    [Fact]
    public void Zones_CropTheRightPixels_WithoutCopying()
    {
        using var buffer = new FrameBuffer();
        buffer.Mat.Create(100, 200, MatType.CV_8UC3);
        for (int y = 0; y < 100; y++)
        {
            for (int x = 0; x < 200; x++)
            {
                buffer.Mat.Set(y, x, new Vec3b((byte)x, (byte)y, 7));
            }
        }

        using var frame = new Frame(buffer.View(), DateTimeOffset.UnixEpoch, 0, "cam");
        var zones = new ZoneSet([ZoneOptions.FromRect("belt", 0.25, 0.5, 0.5, 0.25), ZoneOptions.FromPolygon("tri", true, (0.1, 0.1), (0.3, 0.1), (0.1, 0.3))]);
        var regions = new List<Region>();
        zones.Select(frame, regions);

        Region belt = regions[0];
        Assert.Equal(new PixelRect(50, 50, 100, 25), belt.Rect);
        Assert.Equal(RegionReason.Zone, belt.Reason);
        Assert.Equal("belt", belt.Name);
        Assert.Equal([50, 50, 7], belt.Pixels.Row(0)[..3].ToArray());
        Assert.Equal([149, 74, 7], belt.Pixels.Row(24)[^3..].ToArray());
        unsafe
        {
            fixed (byte* p = belt.Pixels.Row(0))
            {
                Assert.Equal(buffer.Mat.Data + (50 * (int)buffer.Mat.Step()) + (50 * 3), (IntPtr)p); // a view, not a copy
            }
        }

        Region tri = regions[1];
        Assert.Equal(new PixelRect(20, 10, 40, 20), tri.Rect);
        Assert.NotNull(tri.Mask);
        Assert.True(tri.Mask!.IsInside(1, 1));
        Assert.False(tri.Mask.IsInside(39, 19));
    }

    [Fact]
    public void Selector_NoZonesNoMotion_GivesFullFrame()
    {
        byte[] pixels = new byte[8 * 4 * 3];
        using var frame = new Frame(Core.Imaging.ImageView.Packed(pixels, 8, 4, Core.Imaging.PixelFormat.Bgr24), DateTimeOffset.UnixEpoch, 0, "cam");
        using var selector = new RoiSelector(ZoneSet.Empty, null);
        var regions = new List<Region>();
        selector.Select(frame, regions);
        Region full = Assert.Single(regions);
        Assert.Equal(RegionReason.Full, full.Reason);
        Assert.Equal(new PixelRect(0, 0, 8, 4), full.Rect);
    }

    [Fact]
    public void Zones_Invalid_ListEveryProblem()
    {
        var ex = Assert.Throws<CaptureConfigurationException>(() => new ZoneSet(
        [
            ZoneOptions.FromPolygon("two", false, (0.1, 0.1), (0.2, 0.2)),
            ZoneOptions.FromPolygon("out", false, (0.1, 0.1), (1.2, 0.1), (0.1, 0.5)),
            ZoneOptions.FromRect("flat", 0.1, 0.1, 0.0, 0.5),
            ZoneOptions.FromPolygon("line", false, (0.1, 0.1), (0.2, 0.2), (0.3, 0.3)),
        ]));
        Assert.Equal(4, ex.Problems.Count);
        Assert.Contains(ex.Problems, p => p.Contains("at least 3 points", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.Contains("outside [0, 1]", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.Contains("zero size", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.Contains("zero area", StringComparison.Ordinal));
    }
}
