using System.Text.Json;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>The resampler against Pillow 9.4 (tools/golden/pixels_reference.py): every filter, up and down, odd sizes.</summary>
public sealed class PixelsResizeGoldenTests
{
    public static TheoryData<SimdMode> Modes => [SimdMode.Scalar, SimdMode.Vector128, SimdMode.Avx2, SimdMode.Avx2Madd];

    [Theory]
    [MemberData(nameof(Modes))]
    public void Resize_MatchesPillow_PixelForPixel(SimdMode mode)
    {
        byte[] blob = PixelsGolden.Blob("resize.bin.gz");
        var sources = new Dictionary<(string, int, int, PixelFormat), ImageView>();
        var failures = new List<string>();
        int cases = 0, full = 0;
        using var resampler = new PillowResampler(degreeOfParallelism: 2, mode);
        foreach (JsonElement c in PixelsGolden.Lines("resize.jsonl"))
        {
            string pattern = c.GetProperty("pattern").GetString()!;
            int w = c.GetProperty("w").GetInt32(), h = c.GetProperty("h").GetInt32();
            int ow = c.GetProperty("ow").GetInt32(), oh = c.GetProperty("oh").GetInt32();
            ResampleFilter filter = Enum.Parse<ResampleFilter>(c.GetProperty("filter").GetString()!, ignoreCase: true);

            // Alternate the source byte order: a BGR frame must give the same RGB result.
            PixelFormat format = cases % 2 == 0 ? PixelFormat.Rgb24 : PixelFormat.Bgr24;
            if (!sources.TryGetValue((pattern, w, h, format), out ImageView src))
            {
                src = PixelsTestPatterns.View(pattern, w, h, format);
                sources[(pattern, w, h, format)] = src;
            }

            byte[] actual = new byte[ow * oh * 3];
            resampler.Resize(src, new PixelSize(ow, oh), filter, actual);
            string what = $"{pattern} {w}x{h} -> {ow}x{oh} {filter} ({format}, {mode})";
            if (c.TryGetProperty("offset", out JsonElement off))
            {
                full++;
                string? diff = PixelsGolden.Compare(blob.AsSpan(off.GetInt32(), c.GetProperty("length").GetInt32()), actual, what);
                if (diff is not null)
                {
                    failures.Add(diff);
                }
            }
            else if (PixelsGolden.Sha256(actual) != c.GetProperty("sha256").GetString())
            {
                failures.Add($"{what}: SHA-256 differs from Pillow's");
            }

            cases++;
        }

        Assert.True(cases > 700, $"only {cases} golden cases");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} resizes differ from Pillow ({full} compared byte by byte):\n" + string.Join('\n', failures.Take(20)));
    }
}
