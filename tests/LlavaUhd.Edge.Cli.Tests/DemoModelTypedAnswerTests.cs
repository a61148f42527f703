using System.Text.Json;

namespace LlavaUhd.Edge.Cli.Tests;

/// <summary>
/// Typed answers on the trained demo model (docs/typed-answers.md): on held-out scenes (seed 8, never seen by the
/// trainer) the typed answers are at least as accurate as the free ones, type by type.
/// </summary>
public sealed class DemoModelTypedAnswerTests
{
    [Fact]
    public void TypedAnswers_AreAtLeastAsAccurateAsFreeOnes_OnHeldOutScenes()
    {
        string dir = Directory.CreateTempSubdirectory("demo-typed").FullName;
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "sample", "--dataset", dir, "--count", "12", "--seed", "8");
        Assert.True(code == 0, stderr);
        string dataset = Path.Combine(dir, "dataset.jsonl");

        JsonElement Eval(params string[] extra)
        {
            (int c, string stdout, string err) = CliProcess.Run(string.Empty, ["eval", dataset, "--profile", "fast", "--json", .. extra]);
            Assert.True(c == 0, err);
            return JsonDocument.Parse(stdout).RootElement;
        }

        JsonElement free = Eval();
        JsonElement typed = Eval("--typed");

        Assert.Equal(free.GetProperty("n").GetInt32(), typed.GetProperty("n").GetInt32());
        foreach (JsonProperty type in free.GetProperty("by_type").EnumerateObject())
        {
            double t = typed.GetProperty("by_type").GetProperty(type.Name).GetDouble();
            Assert.True(t >= type.Value.GetDouble(), $"{type.Name}: typed {t} < free {type.Value.GetDouble()}");
        }

        // not a vacuous comparison: the model does count
        Assert.True(typed.GetProperty("by_type").GetProperty("count").GetDouble() >= 0.5, typed.ToString());
    }
}
