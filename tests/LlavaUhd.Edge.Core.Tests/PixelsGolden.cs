using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>Loads the Pillow golden files made by tools/golden/pixels_reference.py and compares pixels.</summary>
internal static class PixelsGolden
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "TestData", "golden", "pixels");

    public static IEnumerable<JsonElement> Lines(string file) =>
        File.ReadLines(Path.Combine(Dir, file)).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement);

    public static byte[] Blob(string file)
    {
        using var gz = new GZipStream(File.OpenRead(Path.Combine(Dir, file)), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    public static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Null when equal, else a message with the number of differing pixels and the largest channel difference.</summary>
    public static string? Compare(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what)
    {
        if (expected.Length != actual.Length)
        {
            return $"{what}: {actual.Length} bytes, expected {expected.Length}";
        }

        int pixels = 0, maxDiff = 0, first = -1;
        for (int i = 0; i < expected.Length; i += 3)
        {
            int d = Math.Max(Math.Abs(expected[i] - actual[i]), Math.Max(Math.Abs(expected[i + 1] - actual[i + 1]), Math.Abs(expected[i + 2] - actual[i + 2])));
            if (d != 0)
            {
                pixels++;
                maxDiff = Math.Max(maxDiff, d);
                first = first < 0 ? i / 3 : first;
            }
        }

        return pixels == 0 ? null : $"{what}: {pixels} of {expected.Length / 3} pixels differ, max difference {maxDiff}, first at pixel {first}";
    }
}
