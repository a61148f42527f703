using System.Collections.Concurrent;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>Hands out <see cref="FrameBuffer"/>s and takes them back; grows only while consumers hold frames.</summary>
public sealed class FrameBufferPool : IDisposable
{
    private readonly ConcurrentQueue<FrameBuffer> _free = new();
    private int _created;
    private volatile bool _disposed;

    /// <summary>Buffers created so far (a steady state keeps this constant).</summary>
    public int Created => Volatile.Read(ref _created);

    public FrameBuffer Rent()
    {
        if (_free.TryDequeue(out FrameBuffer? buffer))
        {
            return buffer;
        }

        Interlocked.Increment(ref _created);
        return new FrameBuffer(this);
    }

    internal bool Return(FrameBuffer buffer)
    {
        if (_disposed)
        {
            return false;
        }

        _free.Enqueue(buffer);
        return true;
    }

    public void Dispose()
    {
        _disposed = true;
        while (_free.TryDequeue(out FrameBuffer? buffer))
        {
            buffer.Mat.Dispose();
        }
    }
}
