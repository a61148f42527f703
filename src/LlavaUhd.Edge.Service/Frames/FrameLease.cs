using LlavaUhd.Edge.Core.Capture;

namespace LlavaUhd.Edge.Service.Frames;

/// <summary>One hold on a <see cref="SharedFrame"/>; dispose exactly once.</summary>
internal sealed class FrameLease : IDisposable
{
    private SharedFrame? _shared;

    public FrameLease(SharedFrame shared)
    {
        _shared = shared;
        Frame = shared.Frame;
        Shared = shared;
    }

    public Frame Frame { get; }

    public SharedFrame Shared { get; }

    public void Dispose() => Interlocked.Exchange(ref _shared, null)?.Release();
}
