using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>The worked examples of docs/slicing.md §2.3 and §3, verbatim.</summary>
public sealed class SlicePlannerWorkedExampleTests
{
    // W, H, grid (c×r or ""), overview, refined, slice — docs/slicing.md §2.3 (M = 9).
    [Theory]
    [InlineData(1, 1, "", "448x448", "", "")]
    [InlineData(14, 14, "", "448x448", "", "")]
    [InlineData(447, 447, "", "448x448", "", "")]
    [InlineData(448, 448, "", "448x448", "", "")]
    [InlineData(449, 449, "1x2", "448x448", "630x644", "630x322")]
    [InlineData(1, 20, "", "98x2002", "", "")]
    [InlineData(1000, 100, "", "1414x140", "", "")]
    [InlineData(1, 8192, "", "14x40544", "", "")]
    [InlineData(640, 480, "2x1", "518x392", "728x546", "364x546")]
    [InlineData(1344, 336, "4x1", "896x224", "1792x448", "448x448")]
    [InlineData(1920, 1080, "4x2", "602x336", "1680x952", "420x476")]
    [InlineData(1080, 1920, "2x4", "336x602", "952x1680", "476x420")]
    [InlineData(3840, 2160, "4x2", "602x336", "1680x952", "420x476")]
    [InlineData(4096, 4096, "3x3", "448x448", "1344x1344", "448x448")]
    [InlineData(8000, 200, "9x1", "2800x70", "8442x210", "938x210")]
    [InlineData(200, 8000, "1x9", "70x2828", "210x8442", "210x938")]
    [InlineData(2560, 640, "8x1", "896x224", "2576x630", "322x630")]
    [InlineData(1030, 1574, "2x4", "364x560", "1008x1568", "504x392")]
    [InlineData(4032, 3024, "3x3", "518x392", "1554x1176", "518x392")]
    public void MiniCpmV_MatchesWorkedExample(int w, int h, string grid, string overview, string refined, string slice)
    {
        SlicePlan plan = SlicePlanner.Plan(w, h, SlicingOptions.For(SliceScheme.MiniCpmV));

        Assert.Equal(grid, plan.Grid?.ToString() ?? string.Empty);
        Assert.Equal(overview, plan.Overview.ToString());
        Assert.Equal(refined, plan.Refined?.ToString() ?? string.Empty);
        Assert.Equal(slice, plan.SliceSize?.ToString() ?? string.Empty);
        Assert.Equal(64 * (1 + (plan.Grid?.Count ?? 0)), plan.TotalTokens);
    }

    // docs/slicing.md §2.3, "Effect of M".
    [Theory]
    [InlineData(1920, 1080, 4, "3x1", "350x588")]
    [InlineData(1920, 1080, 9, "4x2", "420x476")]
    [InlineData(1920, 1080, 16, "4x3", "518x392")]
    [InlineData(3840, 2160, 4, "3x1", "350x588")]
    [InlineData(3840, 2160, 16, "5x3", "462x434")]
    [InlineData(4096, 4096, 4, "2x2", "448x448")]
    [InlineData(4096, 4096, 16, "4x4", "448x448")]
    [InlineData(8000, 200, 4, "4x1", "1414x140")]
    [InlineData(8000, 200, 16, "9x1", "938x210")]
    [InlineData(1056, 2112, 4, "1x3", "546x364")]
    [InlineData(1056, 2112, 9, "2x4", "448x448")]
    [InlineData(1056, 2112, 16, "3x4", "364x546")]
    [InlineData(640, 480, 4, "2x1", "364x546")]
    [InlineData(640, 480, 16, "2x1", "364x546")]
    public void MiniCpmV_MaxSlices_MatchesWorkedExample(int w, int h, int maxSlices, string grid, string slice)
    {
        SlicePlan plan = SlicePlanner.Plan(w, h, SlicingOptions.For(SliceScheme.MiniCpmV) with { MaxSlices = maxSlices });

        Assert.Equal(grid, plan.Grid.ToString());
        Assert.Equal(slice, plan.SliceSize.ToString());
    }

    // docs/slicing.md §3 (SmolVLM-256M: longest edge 2048, tiles 512).
    [Theory]
    [InlineData(1, 1, "2048x2048", 4, 4)]
    [InlineData(448, 448, "2048x2048", 4, 4)]
    [InlineData(640, 480, "2048x1536", 3, 4)]
    [InlineData(1920, 1080, "2048x1536", 3, 4)]
    [InlineData(1080, 1920, "1536x2048", 4, 3)]
    [InlineData(3840, 2160, "2048x1536", 3, 4)]
    [InlineData(4032, 3024, "2048x1536", 3, 4)]
    [InlineData(4000, 2001, "2048x1024", 2, 4)]
    [InlineData(4096, 1025, "2048x512", 1, 4)]
    [InlineData(8000, 200, "2048x512", 1, 4)]
    [InlineData(200, 8000, "512x2048", 4, 1)]
    [InlineData(1344, 336, "2048x512", 1, 4)]
    public void Idefics3_MatchesWorkedExample(int w, int h, string resized, int rows, int cols)
    {
        SlicePlan plan = SlicePlanner.Plan(w, h, SlicingOptions.For(SliceScheme.Idefics3));

        Assert.Equal(resized, plan.Refined.ToString());
        Assert.Equal(new GridSize(cols, rows), plan.Grid);
        Assert.Equal("512x512", plan.Overview.ToString());
        Assert.Equal((rows * cols) + 1, plan.Views.Length);
        Assert.Equal(ViewKind.Global, plan.Views[^1].Kind);
        Assert.All(plan.Views, v => Assert.Equal(new PixelSize(512, 512), v.Size));
    }

    [Fact]
    public void Idefics3_OneByOne_Has1088ImageTokens()
    {
        SlicePlan plan = SlicePlanner.Plan(1, 1, SlicingOptions.For(SliceScheme.Idefics3));

        Assert.Equal(17 * 64, plan.TotalTokens);
    }

    [Fact]
    public void MiniCpmV_FourToOne_BreaksTheExactTieByTheLastBitOfLog()
    {
        // |ln 4 − ln 8| is one ulp smaller than |ln 4 − ln 2|, so the reference picks 8×1 (docs/slicing.md §1).
        Assert.Equal(new GridSize(8, 1), SlicePlanner.Plan(4096, 1024, SlicingOptions.For(SliceScheme.MiniCpmV)).Grid);
        Assert.Equal(new GridSize(1, 8), SlicePlanner.Plan(1024, 4096, SlicingOptions.For(SliceScheme.MiniCpmV)).Grid);
    }

    [Fact]
    public void MiniCpmV_SnapRoundsHalvesToEven()
    {
        // 511 = 36.5 × 14 rounds to 36 × 14 = 504 (llama.cpp's std::round gives 518).
        Assert.Equal(504, SlicePlanner.Snap(511, 14));
        Assert.Equal(14, SlicePlanner.Snap(3, 14));
        Assert.Equal(532, SlicePlanner.Snap(525, 14)); // 37.5 → 38
    }

    [Fact]
    public void MiniCpmV_SquareImageNeverGetsTwoByTwoForTwoSlices()
    {
        Assert.Equal(new GridSize(1, 2), SlicePlanner.Plan(449, 449, SlicingOptions.For(SliceScheme.MiniCpmV)).Grid);
        Assert.Equal(new GridSize(2, 2), SlicePlanner.Plan(800, 800, SlicingOptions.For(SliceScheme.MiniCpmV)).Grid);
    }
}
