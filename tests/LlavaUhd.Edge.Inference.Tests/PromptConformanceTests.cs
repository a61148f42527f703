using System.Text.Json;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Pipeline;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// The prompt ids our pipeline builds equal transformers.js's <c>input_ids</c> (Idefics3Processor with the real
/// SmolVLM-256M-Instruct tokenizer, chat template and processor config; goldens from
/// <c>tools/conformance/prompt-goldens.mjs</c>) for images from 1×1 to 4K, tall, wide, exactly 512, and questions
/// with awkward whitespace and Unicode.
/// </summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class PromptConformanceTests
{
    private static readonly string s_goldens = Path.Combine(AppContext.BaseDirectory, "TestData", "golden", "transformersjs", "smolvlm-prompts.jsonl");
    private readonly GeneratedPackages _packages;

    public PromptConformanceTests(GeneratedPackages packages) => _packages = packages;

    [Fact]
    public void Build_EveryGoldenImageAndQuestion_EqualsTransformersJsInputIds()
    {
        ModelPackage package = ModelPackage.Load(_packages.SmolVlm, verifyHashes: false);
        var builder = new PromptBuilder(package.Manifest, new TokenizerAdapter(package.LoadTokenizer()));
        var failures = new List<string>();
        int cases = 0;
        foreach (string line in File.ReadLines(s_goldens).Where(l => l.Length > 0))
        {
            cases++;
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement g = doc.RootElement;
            var size = new PixelSize(g.GetProperty("width").GetInt32(), g.GetProperty("height").GetInt32());
            string question = g.GetProperty("question").GetString()!;
            int[] expected = [.. g.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32())];

            SlicePlan plan = builder.PlanFor(size, CompressionProfile.Detail);
            AssembledPrompt prompt = builder.Build(plan, question);
            int[] shape = [1, plan.Views.Length, 3, plan.Views[0].Size.Height, plan.Views[0].Size.Width];
            string where = $"{size.Width}x{size.Height} {JsonSerializer.Serialize(question)}";
            if ((plan.Grid?.Rows ?? 0) != g.GetProperty("rows").GetInt32() || (plan.Grid?.Columns ?? 0) != g.GetProperty("cols").GetInt32())
            {
                failures.Add($"{where}: grid {plan.Grid} vs rows {g.GetProperty("rows")} cols {g.GetProperty("cols")}");
            }

            if (!shape.SequenceEqual(g.GetProperty("pixel_values_shape").EnumerateArray().Select(e => e.GetInt32())))
            {
                failures.Add($"{where}: pixel_values [{string.Join(',', shape)}] vs {g.GetProperty("pixel_values_shape")}");
            }

            int[] ours = [.. prompt.Ids];
            if (!ours.SequenceEqual(expected))
            {
                int at = Enumerable.Range(0, Math.Min(ours.Length, expected.Length)).FirstOrDefault(i => ours[i] != expected[i], Math.Min(ours.Length, expected.Length));
                failures.Add($"{where}: {ours.Length} ids vs {expected.Length}, first difference at {at}");
            }
        }

        Assert.True(cases >= 40, $"only {cases} golden prompts");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} differ:\n{string.Join('\n', failures.Take(20))}");
    }
}
