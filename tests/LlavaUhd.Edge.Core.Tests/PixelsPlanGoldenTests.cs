using System.Text.Json;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>Whole plans against the reference processors' Pillow pipelines (tools/golden/pixels_reference.py).</summary>
public sealed class PixelsPlanGoldenTests
{
    [Theory]
    [InlineData(SimdMode.Scalar, PixelFormat.Rgb24)]
    [InlineData(SimdMode.Auto, PixelFormat.Bgr24)]
    public void PlanViews_MatchReferenceProcessors(SimdMode mode, PixelFormat format)
    {
        byte[] blob = PixelsGolden.Blob("plans.bin.gz");
        var failures = new List<string>();
        int views = 0;
        using var executor = new PlanExecutor(new PixelPipelineOptions { DegreeOfParallelism = 2, Simd = mode });
        using var batch = new ViewBatch();
        foreach (JsonElement c in PixelsGolden.Lines("plans.jsonl"))
        {
            SlicingOptions options = Options(c);
            int w = c.GetProperty("w").GetInt32(), h = c.GetProperty("h").GetInt32();
            string pattern = c.GetProperty("pattern").GetString()!;
            SlicePlan plan = SlicePlanner.Plan(new PixelSize(w, h), options);
            executor.Execute(plan, PixelsTestPatterns.View(pattern, w, h, format), batch);

            JsonElement[] expected = [.. c.GetProperty("views").EnumerateArray()];
            string what = $"{options.Scheme.ToName()} {pattern} {w}x{h}";
            Assert.Equal(expected.Select(e => e.GetProperty("name").GetString()), plan.Views.Select(v => v.Name));
            for (int i = 0; i < expected.Length; i++)
            {
                JsonElement e = expected[i];
                var size = new PixelSize(e.GetProperty("w").GetInt32(), e.GetProperty("h").GetInt32());
                Assert.Equal(size, plan.Views[i].Size);
                byte[] actual = new byte[size.Area * 3];
                executor.CopyViewRgb(i, actual);
                views++;
                if (e.TryGetProperty("offset", out JsonElement off))
                {
                    string? diff = PixelsGolden.Compare(blob.AsSpan(off.GetInt32(), e.GetProperty("length").GetInt32()), actual, $"{what} {plan.Views[i].Name}");
                    if (diff is not null)
                    {
                        failures.Add(diff);
                    }
                }
                else if (PixelsGolden.Sha256(actual) != e.GetProperty("sha256").GetString())
                {
                    failures.Add($"{what} {plan.Views[i].Name}: SHA-256 differs from the reference");
                }
            }
        }

        Assert.True(views > 60, $"only {views} views compared");
        Assert.True(failures.Count == 0, $"{failures.Count} of {views} views differ:\n" + string.Join('\n', failures));
    }

    private static SlicingOptions Options(JsonElement c)
    {
        SliceScheme scheme = SliceSchemeNames.Parse(c.GetProperty("scheme").GetString());
        SlicingOptions o = SlicingOptions.For(scheme);
        return scheme == SliceScheme.Idefics3
            ? o with { LongestEdge = c.GetProperty("longestEdge").GetInt32(), TileSize = c.GetProperty("tile").GetInt32() }
            : o with { MaxSlices = c.GetProperty("maxSlices").GetInt32(), ScaleResolution = c.GetProperty("scale").GetInt32(), PatchSize = c.GetProperty("patch").GetInt32() };
    }
}
