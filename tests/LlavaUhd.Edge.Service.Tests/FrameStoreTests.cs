using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Service.Frames;

namespace LlavaUhd.Edge.Service.Tests;

public sealed class FrameStoreTests
{
    private sealed class Owner : IDisposable
    {
        public int Disposed { get; private set; }

        public void Dispose() => Disposed++;
    }

    private static (Frame Frame, Owner Owner) NewFrame(long sequence)
    {
        var owner = new Owner();
        var frame = new Frame(ImageView.Packed(new byte[4 * 4 * 3], 4, 4, PixelFormat.Bgr24), DateTimeOffset.UtcNow, sequence, "cam0", owner);
        return (frame, owner);
    }

    [Fact]
    public void Latest_IsReleased_WhenReplaced_AndNoLeaseHoldsIt()
    {
        using var frames = new CameraFrames("cam0", history: 2);
        (Frame f0, Owner o0) = NewFrame(0);
        frames.Publish(f0);
        FrameLease lease = frames.TryLatest()!;
        (Frame f1, Owner o1) = NewFrame(1);
        frames.Publish(f1);
        Assert.Equal(0, o0.Disposed);          // the lease still holds frame 0
        lease.Dispose();
        lease.Dispose();                        // a second dispose does nothing
        Assert.Equal(1, o0.Disposed);
        Assert.Equal(0, o1.Disposed);
        Assert.Equal(1, frames.TryLatest()!.Frame.Sequence);
    }

    [Fact]
    public void AnsweredHistory_IsBounded_AndReferencedBySequence()
    {
        var owners = new List<Owner>();
        var store = new CameraFrames("cam0", history: 2);
        for (int i = 0; i < 5; i++)
        {
            (Frame f, Owner o) = NewFrame(i);
            owners.Add(o);
            store.Publish(f);
            using FrameLease lease = store.TryLatest()!;
            store.Remember(lease);
        }

        Assert.Null(store.TryAnswered(1));
        using (FrameLease? three = store.TryAnswered(3))
        {
            Assert.Equal(3, three!.Frame.Sequence);
        }

        Assert.Equal([1, 1, 1, 0, 0], owners.Select(o => o.Disposed));   // frames 3 and 4 held (history 2), 4 is also the latest
        store.Dispose();
        Assert.All(owners, o => Assert.Equal(1, o.Disposed));            // each frame disposed exactly once
    }
}
