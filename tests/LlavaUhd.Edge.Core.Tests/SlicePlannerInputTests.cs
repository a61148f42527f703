using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

public sealed class SlicePlannerInputTests
{
    [Theory]
    [InlineData(0, 10, "width", "width = 0")]
    [InlineData(-5, 10, "width", "width = -5")]
    [InlineData(10, 0, "height", "height = 0")]
    [InlineData(10, 70_000, "height", "height = 70000")]
    [InlineData(100_000, 10, "width", "width = 100000")]
    public void BadSize_ThrowsNamingTheValue(int w, int h, string parameter, string message)
    {
        var ex = Assert.Throws<SlicingException>(() => SlicePlanner.Plan(w, h, SlicingOptions.For(SliceScheme.MiniCpmV)));

        Assert.Equal(parameter, ex.Parameter);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<SlicingOptions, string> BadOptions => new()
    {
        { SlicingOptions.For(SliceScheme.MiniCpmV) with { MaxSlices = 0 }, "maxSlices" },
        { SlicingOptions.For(SliceScheme.MiniCpmV) with { MaxSlices = 1000 }, "maxSlices" },
        { SlicingOptions.For(SliceScheme.MiniCpmV) with { PatchSize = 0 }, "patchSize" },
        { SlicingOptions.For(SliceScheme.MiniCpmV) with { ScaleResolution = 10 }, "scaleResolution" },
        { SlicingOptions.For(SliceScheme.MiniCpmV) with { Overlap = 0.5 }, "overlap" },
        { SlicingOptions.For(SliceScheme.MiniCpmV) with { Overlap = double.NaN }, "overlap" },
        { SlicingOptions.For(SliceScheme.MiniCpmV) with { MaxAspectRatio = 0.5 }, "maxAspectRatio" },
        { SlicingOptions.For(SliceScheme.MiniCpmV) with { TokensPerView = 0 }, "tokensPerView" },
        { SlicingOptions.For(SliceScheme.Idefics3) with { TileSize = 500 }, "tileSize" },
        { SlicingOptions.For(SliceScheme.Idefics3) with { LongestEdge = 0 }, "longestEdge" },
        { SlicingOptions.For(SliceScheme.LlavaUhdV1) with { MaxSlices = -1 }, "maxSlices" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOptions_ThrowNamingTheOption(SlicingOptions options, string parameter)
    {
        var ex = Assert.Throws<SlicingException>(() => SlicePlanner.Plan(640, 480, options));

        Assert.Equal(parameter, ex.Parameter);
        Assert.StartsWith(parameter + " = ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownScheme_ListsTheKnownOnes()
    {
        var ex = Assert.Throws<SlicingException>(() => SliceSchemeNames.Parse("minicpm-v3"));

        Assert.Contains("minicpmv, idefics3, llava-uhd-v1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExtremeAspect_KeepsReferenceBehaviourByDefault()
    {
        SlicePlan plan = SlicePlanner.Plan(1, 8192, SlicingOptions.For(SliceScheme.MiniCpmV));

        Assert.Equal(new PixelSize(14, 40544), plan.Overview);
        Assert.Single(plan.Views);
        Assert.Empty(plan.Notes);
    }

    [Fact]
    public void AspectGuard_PadsTheShortSide_AndSaysSo()
    {
        SlicePlan plan = SlicePlanner.Plan(1, 8192, SlicingOptions.For(SliceScheme.MiniCpmV) with { MaxAspectRatio = 20 });

        Assert.Equal(new PixelSize(1, 8192), plan.Original);
        Assert.Equal(new PixelSize(410, 8192), plan.Planned);
        string note = Assert.Single(plan.Notes);
        Assert.Contains("8192:1", note, StringComparison.Ordinal);
        Assert.Contains("410x8192", note, StringComparison.Ordinal);
        // Snapping to whole patches can push a view slightly past the ratio (98×2002 ≈ 20.4:1), never far.
        Assert.All(plan.Views, v => Assert.True(v.Size.Width * 21 >= v.Size.Height, $"{v.Name} {v.Size}"));
        Assert.All(plan.Views, v => Assert.True(v.Valid.Width < v.Size.Width, "the padding must be masked"));
    }

    [Fact]
    public void AspectGuard_DoesNothingWithinTheLimit()
    {
        SlicePlan guarded = SlicePlanner.Plan(1920, 1080, SlicingOptions.For(SliceScheme.MiniCpmV) with { MaxAspectRatio = 4 });
        SlicePlan reference = SlicePlanner.Plan(1920, 1080, SlicingOptions.For(SliceScheme.MiniCpmV));

        Assert.Empty(guarded.Notes);
        Assert.Equal(reference.Views.Select(v => (v.Size, v.Footprint)), guarded.Views.Select(v => (v.Size, v.Footprint)));
    }

    [Fact]
    public void LlavaUhdV1_SmallSquareImage_IsNotSliced_AndUses24x24Patches()
    {
        SlicePlan plan = SlicePlanner.Plan(336, 336, SlicingOptions.For(SliceScheme.LlavaUhdV1));

        Assert.Null(plan.Grid);
        Assert.Equal(new PixelSize(336, 336), Assert.Single(plan.Views).Size);
    }

    [Fact]
    public void LlavaUhdV1_672x1088_IsCutIntoSixSlicesOfTheOriginal()
    {
        // The paper's headline size: 672×1088 → N = ceil(731136 / 112896) = 7 → clamped to 6 → 2 × 3 slices.
        SlicePlan plan = SlicePlanner.Plan(672, 1088, SlicingOptions.For(SliceScheme.LlavaUhdV1));

        Assert.Equal(new GridSize(2, 3), plan.Grid);
        Assert.Equal(7, plan.Views.Length);
        Assert.Equal(new PixelRect(0, 0, 336, 362), plan.Views[0].Footprint);
        Assert.Equal(new PixelRect(336, 725, 336, 363), plan.Views[5].Footprint);
        // Released-code quirk: every view gets the whole image's adaptive size.
        PixelSize whole = SlicePlanner.AdaptSize(672, 1088, 336, 14);
        Assert.All(plan.Views, v => Assert.Equal(whole, v.Size));

        SlicePlan paper = SlicePlanner.Plan(672, 1088, SlicingOptions.For(SliceScheme.LlavaUhdV1) with { V1WholeImageAdaptSize = false });
        Assert.Equal(SlicePlanner.AdaptSize(336, 362, 336, 14), paper.Views[0].Size);
    }
}

public sealed class SlicePlanCacheTests
{
    [Fact]
    public void SameSizeAndOptions_ReturnTheSamePlan_WithoutAllocating()
    {
        var cache = new SlicePlanCache();
        SlicingOptions options = SlicingOptions.For(SliceScheme.MiniCpmV);
        SlicePlan first = cache.Get(new PixelSize(1920, 1080), options);

        SlicingOptions equalOptions = options with { };
        cache.Get(new PixelSize(1920, 1080), equalOptions);
        long before = GC.GetAllocatedBytesForCurrentThread();
        SlicePlan again = cache.Get(new PixelSize(1920, 1080), equalOptions);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Same(first, again);
        Assert.Equal(0, allocated);
        Assert.NotSame(first, cache.Get(new PixelSize(1920, 1080), options with { MaxSlices = 4 }));
    }

    [Fact]
    public void Capacity_BoundsTheCache()
    {
        var cache = new SlicePlanCache(capacity: 8);
        for (int w = 1; w <= 100; w++)
        {
            cache.Get(new PixelSize(w * 10, 480), SlicingOptions.For(SliceScheme.Idefics3));
        }

        Assert.InRange(cache.Count, 1, 8);
    }
}

public sealed class Idefics3IdentityTests
{
    [Fact]
    public void RegionAlreadyAtTheResizedSize_IsTiledFromTheRegionItself()
    {
        SlicePlan plan = SlicePlanner.Plan(2048, 1536, SlicingOptions.For(SliceScheme.Idefics3));

        Assert.Equal(13, plan.Views.Length);
        Assert.All(plan.Slices, v => Assert.Equal(PlanStage.RegionInput, plan.StageOf(v).Input));
        Assert.Equal(new PixelRect(1536, 1024, 512, 512), plan.StageOf(plan.Views[11]).Source);
        Assert.Equal(new PixelRect(1536, 1024, 512, 512), plan.Views[11].Footprint);
    }

    [Fact]
    public void TileSizedRegion_WithLongestEdgeOfOneTile_IsOneIdentityView()
    {
        SlicePlan plan = SlicePlanner.Plan(512, 512, SlicingOptions.For(SliceScheme.Idefics3) with { LongestEdge = 512 });

        SliceView only = Assert.Single(plan.Views);
        Assert.Equal(ViewKind.Global, only.Kind);
        Assert.False(plan.StageOf(only).Resamples);
        Assert.Equal(new PixelSize(512, 512), only.Size);
    }
}
