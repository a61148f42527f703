using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Capture.Tests.Fakes;
using LlavaUhd.Edge.Core.Capture;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Tests;

/// <summary>The per-frame hot path (pooled grab → frame → zones + motion ROI → crops) allocates nothing in steady state.</summary>
public sealed class AllocationTests
{
    [Theory]
    [InlineData(MotionMethod.Mog2)]
    [InlineData(MotionMethod.FrameDifference)]
    public void MotionRoiAndCrop_SteadyState_AllocatesNothingPerFrame(MotionMethod method)
    {
        const int warmUp = 20, measured = 50;
        var options = new CameraOptions
        {
            Id = "cam",
            Source = "testpattern:320x240",
            Zones = { ZoneOptions.FromRect("belt", 0.1, 0.3, 0.5, 0.4) },
            Motion = new MotionOptions { Method = method, ProcessWidth = 160 },
        };
        using var source = new TestPatternSource(options);
        source.Open();
        using var selector = RoiSelector.FromOptions(options);
        using var pool = new FrameBufferPool();
        var regions = new List<Region>(16);
        var t0 = DateTimeOffset.UnixEpoch;
        long allocated = 0, checksum = 0, motionRegions = 0;

        // Decoding is outside this test's scope (TestPatternSource draws into the Mat); measured: wrap, select, crop.
        for (int i = 0; i < warmUp + measured; i++)
        {
            FrameBuffer buffer = pool.Rent();
            Assert.True(source.Read(buffer.Mat));
            long before = GC.GetAllocatedBytesForCurrentThread();
            using (Frame frame = buffer.Wrap(t0.AddMilliseconds(i * 33), i, options.Id))
            {
                selector.Select(frame, regions);
                foreach (Region region in regions)
                {
                    checksum += region.Pixels.Row(region.Pixels.Height - 1)[0];
                    motionRegions += region.Reason == RegionReason.Motion ? 1 : 0;
                }
            }

            long after = GC.GetAllocatedBytesForCurrentThread();
            if (i >= warmUp)
            {
                allocated += after - before;
            }
        }

        Assert.True(motionRegions > 0, "the moving square must be detected, or the motion path was not exercised");
        GC.KeepAlive(checksum); // the pixel reads stay observable, so none of the region views can be optimised away
        Assert.Equal(1, pool.Created);
        Assert.Equal(0, allocated); // bytes over 50 frames
    }

    [Fact]
    public void Wrap_ReusesTheFrameObject_OnlyAfterDispose()
    {
        using var pool = new FrameBufferPool();
        FrameBuffer buffer = pool.Rent();
        buffer.Mat.Create(4, 8, MatType.CV_8UC3);
        Frame first = buffer.Wrap(DateTimeOffset.UnixEpoch, 0, "cam");
        Assert.Same(buffer.Mat, first.TryGetMat());
        Assert.Throws<InvalidOperationException>(() => buffer.Wrap(DateTimeOffset.UnixEpoch, 1, "cam"));
        first.Dispose();
        Assert.True(first.IsDisposed);
        Assert.Null(first.Owner);

        FrameBuffer again = pool.Rent();
        Assert.Same(buffer, again);
        Frame second = again.Wrap(DateTimeOffset.UnixEpoch.AddSeconds(1), 1, "cam");
        Assert.Same(first, second);
        Assert.False(second.IsDisposed);
        Assert.Equal(1, second.Sequence);
        Assert.Same(again, second.Owner);
        second.Dispose();
        Assert.Equal(1, pool.Created);
    }
}
