using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Capture;

/// <summary>Why a region was chosen.</summary>
public enum RegionReason
{
    /// <summary>The whole frame (no zones and no motion selection configured).</summary>
    Full,

    /// <summary>A static zone configured for the camera.</summary>
    Zone,

    /// <summary>A box where motion was detected.</summary>
    Motion,
}

/// <summary>
/// A part of a frame handed to the pixel path: a view of the frame's memory (no copy), its rectangle in the frame's
/// native pixels, an optional mask (for polygon zones) and why it was chosen. Valid while its frame is not disposed.
/// </summary>
public readonly record struct Region(ImageView Pixels, PixelRect Rect, RegionReason Reason, string? Name = null, RegionMask? Mask = null);

/// <summary>
/// A per-pixel mask the size of a region: 255 inside (keep), 0 outside (mask out), one byte per pixel, rows packed.
/// </summary>
public sealed class RegionMask
{
    public RegionMask(ReadOnlyMemory<byte> data, int width, int height)
    {
        if (width <= 0 || height <= 0 || data.Length < (long)width * height)
        {
            throw new ImageFormatException($"A {width}x{height} mask needs {(long)width * height} bytes; got {data.Length}.");
        }

        Data = data;
        Width = width;
        Height = height;
    }

    public ReadOnlyMemory<byte> Data { get; }

    public int Width { get; }

    public int Height { get; }

    public bool IsInside(int x, int y) => Data.Span[(y * Width) + x] != 0;
}
