using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>Invariants over many random sizes and options (seeded, so a failure reproduces).</summary>
public sealed class SlicePlannerPropertyTests
{
    public static TheoryData<int, double, bool> Configurations => new()
    {
        { 1, 0.0, false },
        { 2, 0.1, false },
        { 3, 0.0, true },
        { 4, 0.25, true },
    };

    private static IEnumerable<PixelSize> RandomSizes(int seed, int count)
    {
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            int w = (int)Math.Exp(rng.NextDouble() * Math.Log(12_000));
            int h = (int)Math.Exp(rng.NextDouble() * Math.Log(12_000));
            yield return new PixelSize(Math.Max(1, w), Math.Max(1, h));
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void MiniCpmV_SlicesTileTheRefinedImage_RowMajor_PatchAligned(int seed, double overlap, bool pad)
    {
        foreach (PixelSize size in RandomSizes(seed, 3000))
        {
            int maxSlices = 1 + (size.Width * 7 % 16);
            var options = SlicingOptions.For(SliceScheme.MiniCpmV) with { MaxSlices = maxSlices, Overlap = overlap, PreserveAspect = pad };
            SlicePlan plan = SlicePlanner.Plan(size, options);

            Assert.Equal(ViewKind.Overview, plan.Views[0].Kind);
            Assert.All(plan.Views, v => Assert.True(v.Size.Width % 14 == 0 && v.Size.Height % 14 == 0, $"{size}: view {v.Name} {v.Size} is not patch-aligned"));
            Assert.Equal(plan.Views.Sum(v => v.Tokens), plan.TotalTokens);
            Assert.Equal(64 * plan.Views.Length, plan.TotalTokens);
            AssertIndicesAndStages(plan);
            if (plan.Grid is not GridSize g)
            {
                Assert.Single(plan.Views);
                continue;
            }

            Assert.True(g.Count <= maxSlices, $"{size}: {g.Count} slices > max {maxSlices}");
            Assert.True(g.Count > 1);
            AssertGridCoversRefined(plan, g, plan.Refined!.Value, overlap > 0);
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Idefics3_TilesCoverTheResizedImage_AndGlobalComesLast(int seed, double overlap, bool pad)
    {
        foreach (PixelSize size in RandomSizes(seed + 100, 3000))
        {
            var options = SlicingOptions.For(SliceScheme.Idefics3) with { Overlap = overlap, PreserveAspect = pad };
            SlicePlan plan = SlicePlanner.Plan(size, options);
            GridSize g = plan.Grid!.Value;

            Assert.Equal(2048, Math.Max(plan.Refined!.Value.Width, plan.Refined.Value.Height));
            Assert.InRange(g.Count, 4, 16);
            Assert.Equal(g.Count + 1, plan.Views.Length);
            Assert.Equal(ViewKind.Global, plan.Views[^1].Kind);
            Assert.All(plan.Views, v => Assert.Equal(new PixelSize(512, 512), v.Size));
            AssertIndicesAndStages(plan);
            AssertGridCoversRefined(plan, g, plan.Refined.Value, overlap > 0);
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void LlavaUhdV1_SlicesCoverTheOriginal_AtMostSix(int seed, double overlap, bool pad)
    {
        foreach (PixelSize size in RandomSizes(seed + 200, 3000))
        {
            var options = SlicingOptions.For(SliceScheme.LlavaUhdV1) with { Overlap = overlap, PreserveAspect = pad };
            SlicePlan plan = SlicePlanner.Plan(size, options);

            Assert.Equal(ViewKind.Overview, plan.Views[^1].Kind);
            Assert.All(plan.Views, v => Assert.True(v.Size.Width % 14 == 0 && v.Size.Height % 14 == 0 && v.Size.Width * v.Size.Height <= 576 * 14 * 14, $"{size}: {v.Name} {v.Size}"));
            AssertIndicesAndStages(plan);
            if (plan.Grid is GridSize g)
            {
                Assert.InRange(g.Count, 2, 6);
                var footprints = plan.Slices.Select(v => v.Footprint).ToList();
                long covered = footprints.Sum(f => f.Area());
                Assert.True(covered >= size.Area, $"{size}: slices cover {covered} of {size.Area} pixels");
                if (overlap == 0)
                {
                    Assert.Equal(size.Area, covered);
                }
            }
        }
    }

    [Fact]
    public void Overlap_ExtendsInnerEdgesOnly_ByWholePatches()
    {
        var options = SlicingOptions.For(SliceScheme.MiniCpmV) with { Overlap = 0.1 };
        SlicePlan plan = SlicePlanner.Plan(1920, 1080, options);
        var slices = plan.Slices.ToList();

        // 4×2 grid of 420×476 slices; overlap = floor(0.1 × 420 / 14) × 14 = 42 px on each inner side.
        Assert.Equal(new PixelRect(0, 0, 462, 518), plan.StageOf(slices[0]).Source);
        Assert.Equal(new PixelRect(378, 0, 504, 518), plan.StageOf(slices[1]).Source);
        Assert.Equal(new PixelRect(1218, 434, 462, 518), plan.StageOf(slices[^1]).Source);
        Assert.All(slices, v => Assert.False(plan.StageOf(v).Resamples));
    }

    [Fact]
    public void PreserveAspect_PadsInsteadOfStretching_AndTheMaskSaysWhere()
    {
        var options = SlicingOptions.For(SliceScheme.Idefics3) with { PreserveAspect = true };
        SlicePlan plan = SlicePlanner.Plan(1920, 1080, options);

        // 1920×1080 → 2048×1152 keeps 16:9, stretched by the reference to 2048×1536; padded here instead.
        PlanStage tiled = plan.Stages.Single(s => s.Name == "tiled");
        Assert.Equal(new PixelSize(2048, 1536), tiled.Size);
        Assert.Equal(new PixelRect(0, 192, 2048, 1152), tiled.Content);
        Assert.True(tiled.HasPadding);

        // The first row of tiles is 512 high, of which the top 192 rows are padding.
        SliceView first = plan.Views[0];
        Assert.Equal(new PixelRect(0, 192, 512, 320), first.Valid);
        SliceView middle = plan.Views.Single(v => v.Row == 1 && v.Column == 1);
        Assert.Equal(new PixelRect(0, 0, 512, 512), middle.Valid);
    }

    private static void AssertIndicesAndStages(SlicePlan plan)
    {
        for (int i = 0; i < plan.Views.Length; i++)
        {
            SliceView v = plan.Views[i];
            Assert.Equal(i, v.Index);
            PlanStage s = plan.StageOf(v);
            Assert.Equal(v.Size, s.Size);
            Assert.True(PixelRect.FromSize(s.Size).Contains(s.Valid), $"{v.Name}: valid {s.Valid} outside {s.Size}");
            Assert.True(PixelRect.FromSize(plan.Original).Contains(v.Footprint), $"{v.Name}: footprint {v.Footprint} outside {plan.Original}");
            Assert.False(v.Footprint.IsEmpty);
        }

        foreach (PlanStage s in plan.Stages)
        {
            Assert.True(s.Input < s.Index, "stages must come after their inputs");
            PixelSize inputSize = s.Input == PlanStage.RegionInput ? plan.Original : plan.Stages[s.Input].Size;
            Assert.True(PixelRect.FromSize(inputSize).Contains(s.Source), $"{s.Name}: source {s.Source} outside its input {inputSize}");
            Assert.True(PixelRect.FromSize(s.Size).Contains(s.Content));
        }
    }

    private static void AssertGridCoversRefined(SlicePlan plan, GridSize g, PixelSize refined, bool overlapping)
    {
        var slices = plan.Slices.ToList();
        Assert.Equal(g.Count, slices.Count);
        long area = 0;
        for (int i = 0; i < slices.Count; i++)
        {
            Assert.Equal(i / g.Columns, slices[i].Row);
            Assert.Equal(i % g.Columns, slices[i].Column);
            PixelRect src = plan.StageOf(slices[i]).Source;
            area += src.Area();
            Assert.True(PixelRect.FromSize(refined).Contains(src));
        }

        if (overlapping)
        {
            Assert.True(area >= refined.Area);
        }
        else
        {
            Assert.Equal(refined.Area, area);
            Assert.Equal(refined, new PixelSize(plan.SliceSize!.Value.Width * g.Columns, plan.SliceSize.Value.Height * g.Rows));
        }
    }
}

internal static class RectExtensions
{
    public static long Area(this PixelRect r) => (long)r.Width * r.Height;
}
