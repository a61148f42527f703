using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>
/// The exact int16 multiply-add kernels (<see cref="SimdMode.Avx2Madd"/>) against the scalar port: random sizes,
/// every convolution filter, up and down, BGR and RGB, 1 and 2 threads (4-row blocks and single rows), crops whose
/// rows end at the buffer's last byte (the tail path), and whole plans whose later stages read RGBX images.
/// </summary>
public sealed class PixelsMaddPropertyTests
{
    private static readonly ResampleFilter[] Filters =
        [ResampleFilter.Box, ResampleFilter.Bilinear, ResampleFilter.Hamming, ResampleFilter.Bicubic, ResampleFilter.Lanczos];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomResizes_EqualScalarPath(int seed)
    {
        var rng = new Random(seed);
        using var scalar = new PillowResampler(degreeOfParallelism: 1, SimdMode.Scalar);
        using var madd1 = new PillowResampler(degreeOfParallelism: 1, SimdMode.Avx2Madd);
        using var madd2 = new PillowResampler(degreeOfParallelism: 2, SimdMode.Avx2Madd);
        for (int i = 0; i < 60; i++)
        {
            int w = rng.Next(1, 300), h = rng.Next(1, 120);
            int ow = rng.Next(1, 2 * w + 8), oh = rng.Next(1, 2 * h + 8);
            if (rng.Next(3) == 0)
            {
                ow = Math.Max(1, w / rng.Next(2, 9)); // strong shrink: many taps per output
            }

            ResampleFilter filter = Filters[rng.Next(Filters.Length)];
            PixelFormat format = rng.Next(2) == 0 ? PixelFormat.Bgr24 : PixelFormat.Rgb24;
            string pattern = new[] { "noise", "smooth", "edges", "text" }[rng.Next(4)];

            // The frame is exactly as large as the image: any read past the last row's end would leave the array.
            ImageView src = PixelsTestPatterns.View(pattern, w, h, format);
            var size = new PixelSize(ow, oh);
            byte[] expected = new byte[ow * oh * 3], a = new byte[expected.Length], b = new byte[expected.Length];
            scalar.Resize(src, size, filter, expected);
            madd1.Resize(src, size, filter, a);
            madd2.Resize(src, size, filter, b);
            string what = $"{pattern} {w}x{h} -> {ow}x{oh} {filter} {format}";
            Assert.True(expected.AsSpan().SequenceEqual(a), what + " (1 thread)");
            Assert.True(expected.AsSpan().SequenceEqual(b), what + " (2 threads)");
        }
    }

    [Theory]
    [InlineData("minicpmv")]
    [InlineData("idefics3")]
    [InlineData("llava-uhd-v1")]
    public void RandomPlans_EqualScalarPath(string scheme)
    {
        var rng = new Random(scheme.Length);
        SlicingOptions o = SlicingOptions.For(SliceSchemeNames.Parse(scheme));
        o = o.Scheme switch
        {
            SliceScheme.Idefics3 => o with { LongestEdge = 320, TileSize = 96 },
            SliceScheme.LlavaUhdV1 => o with { ScaleResolution = 112 },
            _ => o with { ScaleResolution = 112, MaxSlices = 6 },
        };
        for (int i = 0; i < 6; i++)
        {
            ImageView img = PixelsTestPatterns.View("noise", rng.Next(40, 700), rng.Next(40, 500), PixelFormat.Bgr24);
            SlicePlan plan = SlicePlanner.Plan(img.Size, o with { Overlap = i % 2 == 0 ? 0 : 0.1, PreserveAspect = i % 3 == 0 });
            using var s = new PlanExecutor(new PixelPipelineOptions { DegreeOfParallelism = 1, Simd = SimdMode.Scalar });
            using var m = new PlanExecutor(new PixelPipelineOptions { DegreeOfParallelism = 2, Simd = SimdMode.Avx2Madd });
            using var sb = new ViewBatch();
            using var mb = new ViewBatch();
            s.Execute(plan, img, sb);
            m.Execute(plan, img, mb);
            Assert.True(sb.Pixels.SequenceEqual(mb.Pixels), $"{scheme} {img.Size}");
        }
    }

    [Fact]
    public void Auto_IsTheMultiplyAddPath_WhenAvx2IsSupported()
    {
        using var r = new PillowResampler(simd: SimdMode.Auto);
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            Assert.Equal(SimdMode.Avx2Madd, r.Mode);
        }
        else
        {
            Assert.NotEqual(SimdMode.Avx2Madd, r.Mode);
        }
    }
}
