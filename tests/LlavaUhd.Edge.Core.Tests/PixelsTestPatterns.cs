using LlavaUhd.Edge.Core.Imaging;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>Deterministic source images, identical to <c>pattern()</c> in tools/golden/pixels_reference.py.</summary>
internal static class PixelsTestPatterns
{
    public static byte Hash8(int x, int y)
    {
        uint h = unchecked(((uint)x * 73856093u) ^ ((uint)y * 19349663u) ^ 0x5BD1E995u);
        h = unchecked(h * 2654435761u);
        return (byte)(h >> 24);
    }

    /// <summary>Packed RGB (or BGR when <paramref name="bgr"/>) pixels of the named pattern.</summary>
    public static byte[] Generate(string name, int w, int h, bool bgr = false)
    {
        byte[] a = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                (int r, int g, int b) = name switch
                {
                    "smooth" => ((x * 255) / Math.Max(w - 1, 1), (y * 255) / Math.Max(h - 1, 1), (((x + y) * 127) / Math.Max(w + h, 1)) + (Hash8(x, y) >> 4)),
                    "edges" => Edges(x, y, w),
                    "text" => Text(x, y),
                    "noise" => (Hash8(x, y), Hash8(x + 7919, y), Hash8(x, y + 7919)),
                    _ => throw new ArgumentException(name, nameof(name)),
                };
                int i = ((y * w) + x) * 3;
                a[i] = (byte)(bgr ? b : r);
                a[i + 1] = (byte)g;
                a[i + 2] = (byte)(bgr ? r : b);
            }
        }

        return a;
    }

    public static ImageView View(string name, int w, int h, PixelFormat format = PixelFormat.Rgb24) =>
        ImageView.Packed(Generate(name, w, h, format == PixelFormat.Bgr24), w, h, format);

    private static (int, int, int) Edges(int x, int y, int w)
    {
        int v = (((x / 8) + (y / 8)) % 2) != 0 ? 230 : 20;
        return (v, 255 - v, x < w / 2 ? 40 : 200);
    }

    private static (int, int, int) Text(int x, int y)
    {
        bool ink = ((y % 12) is 3 or 4 && (x / 5) % 3 != 0) || (x % 9 == 0 && (y / 12) % 2 == 0);
        return ink ? (15, 20, 90) : (245, 245, 240);
    }
}
