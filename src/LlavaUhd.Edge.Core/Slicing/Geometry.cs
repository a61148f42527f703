namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>A width and height in pixels.</summary>
public readonly record struct PixelSize(int Width, int Height)
{
    /// <summary>Width × height as a 64-bit number (4096 × 4096 × 3 overflows nothing, 1 × 8192 × … neither).</summary>
    public long Area => (long)Width * Height;

    public override string ToString() => $"{Width}x{Height}";
}

/// <summary>An axis-aligned rectangle in pixels: left, top, width, height.</summary>
public readonly record struct PixelRect(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;

    public int Bottom => Y + Height;

    public PixelSize Size => new(Width, Height);

    public bool IsEmpty => Width <= 0 || Height <= 0;

    public static PixelRect FromSize(PixelSize size) => new(0, 0, size.Width, size.Height);

    /// <summary>True when <paramref name="other"/> lies entirely inside this rectangle.</summary>
    public bool Contains(PixelRect other) =>
        other.X >= X && other.Y >= Y && other.Right <= Right && other.Bottom <= Bottom;

    public PixelRect Intersect(PixelRect other)
    {
        int x = Math.Max(X, other.X);
        int y = Math.Max(Y, other.Y);
        int r = Math.Min(Right, other.Right);
        int b = Math.Min(Bottom, other.Bottom);
        return r <= x || b <= y ? default : new PixelRect(x, y, r - x, b - y);
    }

    public override string ToString() => $"{X},{Y},{Width},{Height}";
}

/// <summary>A slice grid: how many columns and rows of slices.</summary>
public readonly record struct GridSize(int Columns, int Rows)
{
    public int Count => Columns * Rows;

    public override string ToString() => $"{Columns}x{Rows}";
}
