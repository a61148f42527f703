using System.Buffers;

namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>
/// Exposes native memory (an OpenCV <c>Mat</c>'s pixels, a pinned camera buffer) as <see cref="Memory{T}"/> so an
/// <see cref="ImageView"/> can view it without copying. It does not own the memory: the caller keeps the native
/// buffer alive while the memory is used, and disposing this object frees nothing.
/// </summary>
public sealed unsafe class UnmanagedMemoryManager<T> : MemoryManager<T>
    where T : unmanaged
{
    private readonly T* _pointer;
    private readonly int _length;

    public UnmanagedMemoryManager(IntPtr pointer, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (pointer == IntPtr.Zero && length > 0)
        {
            throw new ArgumentNullException(nameof(pointer));
        }

        _pointer = (T*)pointer;
        _length = length;
    }

    public override Span<T> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
