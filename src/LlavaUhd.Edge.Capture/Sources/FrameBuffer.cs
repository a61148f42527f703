using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Imaging;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>
/// A reusable <see cref="Mat"/> that frames are grabbed into. A <see cref="Frame"/> made from it holds it as its
/// owner; disposing the frame returns the buffer to its pool (it does not free the Mat). The pool frees the Mats
/// when it is disposed. The <see cref="UnmanagedMemoryManager{T}"/> over the Mat's pixels is rebuilt only when the Mat's
/// buffer moves (a new size), and <see cref="Wrap"/> re-arms one <see cref="Frame"/> object per buffer, so wrapping
/// a grabbed frame allocates nothing in steady state.
/// </summary>
public sealed class FrameBuffer : IDisposable
{
    private readonly FrameBufferPool? _pool;
    private UnmanagedMemoryManager<byte>? _memory;
    private IntPtr _memoryPointer;
    private long _memoryLength;
    private Frame? _frame;

    internal FrameBuffer(FrameBufferPool? pool)
    {
        _pool = pool;
    }

    /// <summary>A buffer not attached to a pool: disposing it frees the Mat.</summary>
    public FrameBuffer()
        : this(null)
    {
    }

    public Mat Mat { get; } = new();

    /// <summary>A view of the Mat's pixels (8-bit BGR, its row stride), without copying.</summary>
    public ImageView View()
    {
        if (Mat.Empty() || Mat.Type() != MatType.CV_8UC3)
        {
            throw new ImageFormatException($"A frame must be 8-bit BGR; got {Mat.Type()} {Mat.Width}x{Mat.Height}.");
        }

        int stride = (int)Mat.Step();
        long length = ((long)stride * (Mat.Rows - 1)) + ((long)Mat.Cols * ImageView.BytesPerPixel);
        if (_memory is null || _memoryPointer != Mat.Data || _memoryLength != length)
        {
            _memory = new UnmanagedMemoryManager<byte>(Mat.Data, checked((int)length));
            _memoryPointer = Mat.Data;
            _memoryLength = length;
        }

        return new ImageView(_memory.Memory, Mat.Cols, Mat.Rows, stride, PixelFormat.Bgr24);
    }

    /// <summary>
    /// The grabbed pixels as a <see cref="Frame"/> owned by this buffer: disposing the frame returns the buffer to its
    /// pool (or, for a buffer without a pool, frees the Mat). The buffer's previous frame object is reused, so it must
    /// have been disposed (a pooled buffer is only handed out again after that).
    /// </summary>
    /// <exception cref="InvalidOperationException">The previous frame of this buffer is still in use.</exception>
    public Frame Wrap(DateTimeOffset timestamp, long sequence, string cameraId)
    {
        ImageView view = View();
        if (_frame is null)
        {
            _frame = new Frame(view, timestamp, sequence, cameraId, this);
        }
        else
        {
            _frame.Reuse(view, timestamp, sequence, cameraId, this);
        }

        return _frame;
    }

    /// <summary>Returns the buffer to its pool, or frees it when it has none.</summary>
    public void Dispose()
    {
        if (_pool is null || !_pool.Return(this))
        {
            Mat.Dispose();
        }
    }
}
