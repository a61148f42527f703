namespace LlavaUhd.Edge.Core.Slicing;

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
