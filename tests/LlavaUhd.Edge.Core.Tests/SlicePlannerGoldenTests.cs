using System.Text.Json;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>
/// Compares the planner with golden plans made once by the reference processors' own geometry code in Python
/// (tools/golden/slicing_reference.py): 2 528 sizes × (minicpmv M = 4, 9, 16 and idefics3 2048/512, 1456/364).
/// </summary>
public sealed class SlicePlannerGoldenTests
{
    private static readonly string s_golden = Path.Combine(AppContext.BaseDirectory, "TestData", "golden", "slicing.jsonl");

    [Fact]
    public void EveryGoldenPlan_IsReproducedExactly()
    {
        int compared = 0;
        var mismatches = new List<string>();
        foreach (string line in File.ReadLines(s_golden))
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement g = doc.RootElement;
            int w = g.GetProperty("w").GetInt32();
            int h = g.GetProperty("h").GetInt32();
            string actual;
            string expected;
            if (g.GetProperty("scheme").GetString() == "minicpmv")
            {
                var options = SlicingOptions.For(SliceScheme.MiniCpmV) with { MaxSlices = g.GetProperty("max_slices").GetInt32() };
                SlicePlan plan = SlicePlanner.Plan(w, h, options);
                actual = $"{Pair(plan.Grid?.Columns, plan.Grid?.Rows)} {plan.Overview} {plan.Refined?.ToString() ?? "null"} {plan.SliceSize?.ToString() ?? "null"}";
                expected = $"{Pair(g.GetProperty("grid"))} {Size(g.GetProperty("overview"))} {Size(g.GetProperty("refined"))} {Size(g.GetProperty("slice"))}";
            }
            else
            {
                var options = SlicingOptions.For(SliceScheme.Idefics3) with
                {
                    LongestEdge = g.GetProperty("longest_edge").GetInt32(),
                    TileSize = g.GetProperty("tile").GetInt32(),
                    PatchSize = 4,
                };
                SlicePlan plan = SlicePlanner.Plan(w, h, options);
                actual = $"{plan.Refined} {plan.Grid?.Rows ?? 0}x{plan.Grid?.Columns ?? 0} {plan.Overview}";
                expected = $"{Size(g.GetProperty("resized"))} {g.GetProperty("rows").GetInt32()}x{g.GetProperty("cols").GetInt32()} {Size(g.GetProperty("global"))}";
            }

            compared++;
            if (actual != expected)
            {
                mismatches.Add($"{line} -> {actual}");
            }
        }

        Assert.True(compared > 12_000, $"only {compared} golden plans were read");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {compared} plans differ, e.g.:\n{string.Join('\n', mismatches.Take(10))}");
    }

    private static string Pair(int? a, int? b) => a is null ? "null" : $"{a}x{b}";

    private static string Pair(JsonElement e) => e.ValueKind == JsonValueKind.Null ? "null" : $"{e[0].GetInt32()}x{e[1].GetInt32()}";

    private static string Size(JsonElement e) => Pair(e);
}
