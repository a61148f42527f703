using LlavaUhd.Edge.Core.Imaging;

namespace LlavaUhd.Edge.Core.Capture;

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
