using LlavaUhd.Edge.Core.Capture;

namespace LlavaUhd.Edge.Service.Frames;

/// <summary>A frame shared by several holders (the store's latest slot, its history, work items); disposed by the last.</summary>
internal sealed class SharedFrame
{
    private int _refs = 1;

    public SharedFrame(Frame frame) => Frame = frame;

    public Frame Frame { get; }

    public bool TryAddRef()
    {
        while (true)
        {
            int refs = Volatile.Read(ref _refs);
            if (refs == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _refs, refs + 1, refs) == refs)
            {
                return true;
            }
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            Frame.Dispose();
        }
    }
}
