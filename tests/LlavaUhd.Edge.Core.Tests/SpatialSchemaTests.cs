using LlavaUhd.Edge.Core.Schema;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

public sealed class SpatialSchemaTests
{
    private static SlicePlan Plan(SliceScheme scheme, int w, int h, int tokens = 2) =>
        SlicePlanner.Plan(w, h, SlicingOptions.For(scheme) with { TokensPerView = tokens });

    [Fact]
    public void MiniCpmV26_OverviewThenRowsOfSlices_JoinedByNewlines()
    {
        PromptLayout layout = SpatialSchema.Build(Plan(SliceScheme.MiniCpmV, 640, 480), SchemaLayout.MiniCpmV26, placeholderToken: "Q");

        Assert.Equal("<image>QQ</image><slice>QQ</slice><slice>QQ</slice>", layout.ToString());
        Assert.Equal(6, layout.PlaceholderCount);
    }

    [Fact]
    public void MiniCpmV26_TwoRows_WithImageId()
    {
        PromptLayout layout = SpatialSchema.Build(Plan(SliceScheme.MiniCpmV, 449, 449), SchemaLayout.MiniCpmV26, imageId: 0, placeholderToken: "Q");

        Assert.Equal("<image_id>0</image_id><image>QQ</image><slice>QQ</slice>\n<slice>QQ</slice>", layout.ToString());
    }

    [Fact]
    public void MiniCpmV25_SlicesWrappedInOneSliceBlock()
    {
        PromptLayout layout = SpatialSchema.Build(Plan(SliceScheme.MiniCpmV, 1920, 1080, 1), SchemaLayout.MiniCpmV25, placeholderToken: "Q");

        Assert.Equal("<image>Q</image><slice><image>Q</image><image>Q</image><image>Q</image><image>Q</image>\n<image>Q</image><image>Q</image><image>Q</image><image>Q</image></slice>", layout.ToString());
    }

    [Fact]
    public void MiniCpmV_Unsliced_IsOnlyTheOverview()
    {
        PromptLayout layout = SpatialSchema.Build(Plan(SliceScheme.MiniCpmV, 448, 448, 3));

        Assert.Equal("<image><unk><unk><unk></image>", layout.ToString());
    }

    [Fact]
    public void Idefics3_RowColMarkers_NewlinePerRow_ThenGlobal()
    {
        PromptLayout layout = SpatialSchema.Build(Plan(SliceScheme.Idefics3, 4096, 1025, 1));

        const string tile = "<fake_token_around_image><row_1_col_{0}><image>";
        string expected = string.Concat(Enumerable.Range(1, 4).Select(c => tile.Replace("{0}", c.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)))
            + "\n\n<fake_token_around_image><global-img><image><fake_token_around_image>";
        Assert.Equal(expected, layout.ToString());
        Assert.Equal([0, 1, 2, 3, 4], layout.ViewOrder);
    }

    [Fact]
    public void Idefics3_SmolVlm1080p_Has832PlaceholdersInTwelveTilesAndGlobal()
    {
        PromptLayout layout = SpatialSchema.Build(Plan(SliceScheme.Idefics3, 1920, 1080, 64));

        Assert.Equal(13 * 64, layout.PlaceholderCount);
        string text = layout.ToString();
        Assert.Contains("<row_3_col_4>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<row_4_", text, StringComparison.Ordinal);
        Assert.Equal(3, text.Split('\n').Length - 2); // a newline after each of 3 rows, plus the one before the global image
    }

    [Fact]
    public void LlavaUhdV1_CommasBetweenSlices_NewlineAfterRows_ThenOverview()
    {
        PromptLayout layout = SpatialSchema.Build(Plan(SliceScheme.LlavaUhdV1, 672, 1088, 1), SchemaLayout.LlavaUhdV1, placeholderToken: "Q");

        Assert.Equal("Q,Q\nQ,Q\nQ,Q\nQ", layout.ToString());
    }

    [Fact]
    public void ViewOrder_MatchesEncoderOrder_ForEveryDefaultLayout()
    {
        foreach (SliceScheme scheme in Enum.GetValues<SliceScheme>())
        {
            SlicePlan plan = Plan(scheme, 1920, 1080);
            PromptLayout layout = SpatialSchema.Build(plan);

            Assert.Equal(plan.Views.Select(v => v.Index), layout.ViewOrder);
            Assert.Equal(plan.TotalTokens, layout.PlaceholderCount);
        }
    }
}
