using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>Properties of the pixel path: ROI = crop-then-process, SIMD = scalar, masks = the plan, no allocation per frame.</summary>
public sealed class PixelsPropertyTests
{
    public static TheoryData<string, double, bool> Configurations => new()
    {
        { "minicpmv", 0, false },
        { "minicpmv", 0.1, true },
        { "idefics3", 0, false },
        { "idefics3", 0.1, true },
        { "llava-uhd-v1", 0.1, true },
    };

    private static SlicingOptions Small(string scheme, double overlap, bool pad)
    {
        SlicingOptions o = SlicingOptions.For(SliceSchemeNames.Parse(scheme));
        o = o.Scheme switch
        {
            SliceScheme.Idefics3 => o with { LongestEdge = 300, TileSize = 96 },
            SliceScheme.LlavaUhdV1 => o with { ScaleResolution = 112 },
            _ => o with { ScaleResolution = 112, MaxSlices = 6 },
        };
        return o with { Overlap = overlap, PreserveAspect = pad };
    }

    private static (float[] Pixels, byte[] Mask) Run(SlicePlan plan, ImageView view, SimdMode mode, int threads = 2, TensorLayout layout = TensorLayout.PerView)
    {
        using var executor = new PlanExecutor(new PixelPipelineOptions { DegreeOfParallelism = threads, Simd = mode });
        using var batch = new ViewBatch(layout);
        executor.Execute(plan, view, batch);
        return (batch.Pixels.ToArray(), batch.Mask.ToArray());
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void RoiOfAFrame_EqualsCropThenProcess(string scheme, double overlap, bool pad)
    {
        const int fw = 400, fh = 260;
        var roi = new PixelRect(37, 21, 251, 173);
        byte[] frame = PixelsTestPatterns.Generate("noise", fw, fh, bgr: true);
        ImageView region = ImageView.Packed(frame, fw, fh, PixelFormat.Bgr24).Crop(roi);
        byte[] copy = new byte[roi.Width * roi.Height * 3];
        for (int y = 0; y < roi.Height; y++)
        {
            frame.AsSpan((((roi.Y + y) * fw) + roi.X) * 3, roi.Width * 3).CopyTo(copy.AsSpan(y * roi.Width * 3));
        }

        SlicePlan plan = SlicePlanner.Plan(roi.Size, Small(scheme, overlap, pad));
        (float[] a, byte[] am) = Run(plan, region, SimdMode.Auto);
        (float[] b, byte[] bm) = Run(plan, ImageView.Packed(copy, roi.Width, roi.Height, PixelFormat.Bgr24), SimdMode.Auto);
        Assert.Equal(b, a);
        Assert.Equal(bm, am);
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void SimdPaths_EqualScalarPath(string scheme, double overlap, bool pad)
    {
        ImageView img = PixelsTestPatterns.View("smooth", 333, 211);
        SlicePlan plan = SlicePlanner.Plan(img.Size, Small(scheme, overlap, pad));
        (float[] s, byte[] sm) = Run(plan, img, SimdMode.Scalar, threads: 1);
        foreach (SimdMode mode in new[] { SimdMode.Vector128, SimdMode.Avx2, SimdMode.Avx2Madd })
        {
            (float[] v, byte[] vm) = Run(plan, img, mode);
            Assert.Equal(s, v);
            Assert.Equal(sm, vm);
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Masks_MarkExactlyThePlansValidRectangles_AndPaddingIsZero(string scheme, double overlap, bool pad)
    {
        ImageView img = PixelsTestPatterns.View("text", 351, 120);
        SlicePlan plan = SlicePlanner.Plan(img.Size, Small(scheme, overlap, pad));
        foreach (TensorLayout layout in new[] { TensorLayout.PerView, TensorLayout.PaddedBatch })
        {
            using var executor = new PlanExecutor(new PixelPipelineOptions { DegreeOfParallelism = 2 });
            using var batch = new ViewBatch(layout);
            executor.Execute(plan, img, batch);
            Assert.Equal(plan.Views.Length, batch.Count);
            for (int i = 0; i < batch.Count; i++)
            {
                PixelRect valid = plan.Views[i].Valid;
                PixelSize t = batch.TensorSize(i);
                ReadOnlySpan<byte> mask = batch.ViewMask(i);
                ReadOnlySpan<float> px = batch.ViewPixels(i);
                for (int y = 0; y < t.Height; y++)
                {
                    for (int x = 0; x < t.Width; x++)
                    {
                        bool inside = x >= valid.X && x < valid.Right && y >= valid.Y && y < valid.Bottom;
                        Assert.Equal(inside ? 1 : 0, mask[(y * t.Width) + x]);
                        if (!inside)
                        {
                            Assert.Equal(0f, px[(y * t.Width) + x]);
                            Assert.Equal(0f, px[(2 * (int)t.Area) + (y * t.Width) + x]);
                        }
                    }
                }
            }

            if (pad)
            {
                Assert.Contains(plan.Views, v => v.Valid != PixelRect.FromSize(v.Size));
            }
        }
    }

    [Fact]
    public void Idefics3_PaddedBatch_HasThePixelValuesShape()
    {
        ImageView img = PixelsTestPatterns.View("edges", 640, 480, PixelFormat.Bgr24);
        SlicePlan plan = SlicePlanner.Plan(img.Size, SlicingOptions.For(SliceScheme.Idefics3) with { LongestEdge = 1024 });
        using var executor = new PlanExecutor();
        using var batch = new ViewBatch(TensorLayout.PaddedBatch);
        executor.Execute(plan, img, batch);
        Assert.Equal(new long[] { 1, plan.Views.Length, 3, 512, 512 }, batch.BatchShape());
        Assert.Equal(plan.Views.Length * 3 * 512 * 512, batch.Pixels.Length);
        Assert.Equal(plan.Views.Length * 512 * 512, batch.Mask.Length);
        Assert.All(batch.Mask.ToArray(), m => Assert.Equal(1, m));
    }

    [Fact]
    public void Normalisation_IsRescaleThenMeanStd()
    {
        ImageView img = PixelsTestPatterns.View("noise", 28, 28);
        SlicePlan plan = SlicePlanner.Plan(img.Size, SlicingOptions.For(SliceScheme.MiniCpmV) with { ScaleResolution = 28 });
        Assert.Equal(new PixelSize(28, 28), plan.Views[0].Size);
        using var executor = new PlanExecutor(new PixelPipelineOptions { Normalization = Normalization.Clip });
        using var batch = new ViewBatch();
        executor.Execute(plan, img, batch);
        byte[] rgb = PixelsTestPatterns.Generate("noise", 28, 28);
        ReadOnlySpan<float> t = batch.ViewPixels(0);
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < 28 * 28; i++)
            {
                double expected = ((rgb[(i * 3) + c] / 255.0) - Normalization.Clip.Mean(c)) / Normalization.Clip.Std(c);
                Assert.InRange(t[(c * 28 * 28) + i], expected - 1e-5, expected + 1e-5);
            }
        }
    }

    [Fact]
    public void CoefficientTables_AreCachedPerSizePairAndFilter()
    {
        var cache = new ResampleCoefficientCache();
        ResampleCoefficients a = cache.Get(3840, 602, ResampleFilter.Bicubic);
        Assert.Same(a, cache.Get(3840, 602, ResampleFilter.Bicubic));
        Assert.NotSame(a, cache.Get(3840, 602, ResampleFilter.Lanczos));
        Assert.Equal(2, cache.Count);
    }
}

/// <summary>Allocation counting sees every thread, so these run alone (not beside other test classes).</summary>
[CollectionDefinition(nameof(PixelsAllocationTests), DisableParallelization = true)]
[Collection(nameof(PixelsAllocationTests))]
public sealed class PixelsAllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SteadyState_AllocatesNothingPerFrame(int threads)
    {
        ImageView img = PixelsTestPatterns.View("smooth", 640, 360, PixelFormat.Bgr24);
        SlicePlan plan = SlicePlanner.Plan(img.Size, SlicingOptions.For(SliceScheme.MiniCpmV));
        using var executor = new PlanExecutor(new PixelPipelineOptions { DegreeOfParallelism = threads });
        using var batch = new ViewBatch();
        for (int i = 0; i < 4; i++)
        {
            executor.Execute(plan, img, batch);
        }

        // Every thread counts (the pool's workers do the work), so take the best of three windows: a path that
        // allocates does so in every window, while the runtime's own one-off work (tiered JIT recompiling a hot method
        // on a background thread, the test host's timers) lands in one at most.
        long perFrame = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 5; i++)
            {
                executor.Execute(plan, img, batch);
            }

            perFrame = Math.Min(perFrame, (GC.GetTotalAllocatedBytes(precise: true) - before) / 5);
        }

        Assert.True(perFrame < 256, $"{perFrame} bytes allocated per frame (the CLI's bench pixels, without a test host around it, measures 0)");
    }

    [Fact]
    public void RegionOfTheWrongSize_IsAClearError()
    {
        SlicePlan plan = SlicePlanner.Plan(new PixelSize(100, 80), SlicingOptions.For(SliceScheme.MiniCpmV));
        using var executor = new PlanExecutor();
        using var batch = new ViewBatch();
        var ex = Assert.Throws<ImageFormatException>(() => executor.Execute(plan, PixelsTestPatterns.View("smooth", 90, 80), batch));
        Assert.Contains("90x80", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadFramesAndRois_AreClearErrors()
    {
        Assert.Contains("truncated", Assert.Throws<ImageFormatException>(() => ImageView.Packed(new byte[100], 10, 10, PixelFormat.Bgr24)).Message, StringComparison.Ordinal);
        ImageView frame = PixelsTestPatterns.View("smooth", 50, 40);
        Assert.Contains("outside", Assert.Throws<ImageFormatException>(() => frame.Crop(new PixelRect(40, 0, 20, 10))).Message, StringComparison.Ordinal);
        Assert.Contains("zero size", Assert.Throws<ImageFormatException>(() => frame.Crop(new PixelRect(0, 0, 0, 10))).Message, StringComparison.Ordinal);
        Assert.Throws<ImageFormatException>(() => ImageView.Packed(new byte[300], 10, 10, (PixelFormat)7));
    }
}
