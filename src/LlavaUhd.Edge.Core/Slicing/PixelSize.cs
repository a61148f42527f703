namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>A width and height in pixels.</summary>
public readonly record struct PixelSize(int Width, int Height)
{
    /// <summary>Width × height as a 64-bit number (4096 × 4096 × 3 overflows nothing, 1 × 8192 × … neither).</summary>
    public long Area => (long)Width * Height;

    public override string ToString() => $"{Width}x{Height}";
}
