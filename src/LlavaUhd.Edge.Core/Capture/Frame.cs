using System.Globalization;
using LlavaUhd.Edge.Core.Imaging;

namespace LlavaUhd.Edge.Core.Capture;

/// <summary>
/// One camera frame: its pixels as a view, when it was grabbed, its sequence number within the camera and the
/// camera's id. The frame owns its pixel storage through <c>owner</c> (a pooled OpenCV <c>Mat</c>, a rented
/// buffer): <see cref="Dispose"/> hands the storage back exactly once, after which <see cref="Pixels"/> and every
/// <see cref="Region"/> cropped from it must no longer be read. Whoever holds a frame disposes it.
/// The capture layer recycles the frame objects of its pooled buffers (a grab in steady state allocates nothing), so
/// a reference kept past <see cref="Dispose"/> may later show another, newer frame: drop it when disposing.
/// </summary>
public sealed class Frame : IDisposable
{
    private IDisposable? _owner;
    private int _disposed;

    /// <param name="pixels">A view of the frame's pixels (8-bit, 3 channels).</param>
    /// <param name="timestamp">When the frame was grabbed.</param>
    /// <param name="sequence">Frame number within the camera, counting from 0 and never reset by reconnects.</param>
    /// <param name="cameraId">The id of the camera that produced it.</param>
    /// <param name="owner">Releases the pixel storage; null when the caller keeps ownership (e.g. a test array).</param>
    public Frame(ImageView pixels, DateTimeOffset timestamp, long sequence, string cameraId, IDisposable? owner = null)
    {
        Set(pixels, timestamp, sequence, cameraId, owner);
    }

    public ImageView Pixels { get; private set; }

    public DateTimeOffset Timestamp { get; private set; }

    public long Sequence { get; private set; }

    public string CameraId { get; private set; }

    /// <summary>
    /// The storage owner passed to the constructor (e.g. the capture layer's pooled OpenCV buffer), so an adapter can
    /// reach its native image without wrapping the pixels again; null once disposed.
    /// </summary>
    public IDisposable? Owner => Volatile.Read(ref _owner);

    public int Width => Pixels.Width;

    public int Height => Pixels.Height;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>A region covering <paramref name="rect"/> of this frame: a view of the same memory, no copy.</summary>
    public Region Crop(Slicing.PixelRect rect, RegionReason reason, string? name = null, RegionMask? mask = null) =>
        new(Pixels.Crop(rect), rect, reason, name, mask);

    /// <summary>
    /// Re-arms a disposed frame with a new grab: the seam for frame pools (Capture's <c>FrameBuffer</c> keeps one
    /// <see cref="Frame"/> per pooled buffer so a grab in steady state allocates nothing). Same checks as the
    /// constructor; only the frame's last holder, having disposed it, may hand it out again.
    /// </summary>
    /// <exception cref="InvalidOperationException">The frame has not been disposed (someone still holds it).</exception>
    public void Reuse(ImageView pixels, DateTimeOffset timestamp, long sequence, string cameraId, IDisposable? owner)
    {
        if (!IsDisposed)
        {
            throw new InvalidOperationException($"Frame {this} is still in use; only a disposed frame can be reused.");
        }

        Set(pixels, timestamp, sequence, cameraId, owner);
        Volatile.Write(ref _disposed, 0);
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(CameraId))]
    private void Set(ImageView pixels, DateTimeOffset timestamp, long sequence, string cameraId, IDisposable? owner)
    {
        ArgumentNullException.ThrowIfNull(cameraId);
        if (pixels.IsEmpty)
        {
            throw new ImageFormatException("A frame needs pixels.");
        }

        Pixels = pixels;
        Timestamp = timestamp;
        Sequence = sequence;
        CameraId = cameraId;
        Volatile.Write(ref _owner, owner);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Interlocked.Exchange(ref _owner, null)?.Dispose();
        }
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{CameraId}#{Sequence} {Pixels.Width}x{Pixels.Height} @ {Timestamp:O}");
}
