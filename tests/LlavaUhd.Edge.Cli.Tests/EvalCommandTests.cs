using System.Text.Json;
using LlavaUhd.Edge.Cli.Commands;

namespace LlavaUhd.Edge.Cli.Tests;

/// <summary><c>eval</c> scores answers through the real pipeline, answers a line with a roi on that region, and reports per type.</summary>
public sealed class EvalCommandTests : IClassFixture<TinyPackageFixture>
{
    private readonly TinyPackageFixture _tiny;

    public EvalCommandTests(TinyPackageFixture tiny) => _tiny = tiny;

    [Theory]
    [InlineData(" Yes.", "yes", true)]
    [InlineData("4", " 4 ", true)]
    [InlineData("LEFT!", "left", true)]
    [InlineData("K7X?", "k7x", true)]
    [InlineData("lefty", "left", false)]
    [InlineData("4 parcels", "4", false)]
    [InlineData("", "0", false)]
    public void Matches_IgnoresCaseWhitespaceAndFinalPunctuation(string answer, string expected, bool match)
    {
        Assert.Equal(match, EvalCommand.Matches(answer, expected));
    }

    [Fact]
    public void Eval_ScoresWhatTheModelAnswers_PerType_AndAnswersARoiLineOnItsRegion()
    {
        // What the (random-weight) model says, through ask: the whole frame, and a region of it.
        string whole = Ask("How many parcels are there?");
        string region = Ask("What is the code on the red parcel?", "100,50,400,300");
        string dir = Directory.CreateDirectory(Path.Combine(_tiny.Root, "eval")).FullName;
        File.Copy(_tiny.Image, Path.Combine(dir, "frame.png"), overwrite: true);
        string dataset = Path.Combine(dir, "dataset.jsonl");
        File.WriteAllLines(dataset,
        [
            JsonSerializer.Serialize(new { image = "frame.png", question = "How many parcels are there?", answer = whole.Trim().ToUpperInvariant() + ".", type = "count" }),
            JsonSerializer.Serialize(new { image = "frame.png", question = "How many parcels are there?", answer = whole + "x", type = "count" }),
            JsonSerializer.Serialize(new { image = "frame.png", question = "What is the code on the red parcel?", answer = region, type = "code", roi = new[] { 100, 50, 400, 300 } }),
        ]);

        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, "eval", dataset, "--model", _tiny.Package, "--profile", "native", "--max-new-tokens", "6", "--json");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement r = doc.RootElement;
        Assert.Equal(3, r.GetProperty("n").GetInt32());
        Assert.Equal(0.6667, r.GetProperty("accuracy").GetDouble(), 3);
        Assert.Equal(0.5, r.GetProperty("by_type").GetProperty("count").GetDouble());
        Assert.Equal(1.0, r.GetProperty("by_type").GetProperty("code").GetDouble());
        Assert.True(r.GetProperty("visual_tokens_mean").GetDouble() > 0);
        foreach (string field in new[] { "latency_ms_p50", "encode_ms_p50", "ttft_ms_p50" })
        {
            Assert.True(r.GetProperty(field).GetDouble() > 0, field);
        }

        // Through an fp32 token packet (split inference's wire format) the answers are the same.
        (code, stdout, stderr) = CliProcess.Run(string.Empty, "eval", dataset, "--model", _tiny.Package, "--profile", "native", "--max-new-tokens", "6", "--packet", "fp32", "--json");
        Assert.True(code == 0, stderr);
        using JsonDocument packet = JsonDocument.Parse(stdout);
        Assert.Equal(r.GetProperty("by_type").ToString(), packet.RootElement.GetProperty("by_type").ToString());
    }

    [Fact]
    public void Eval_ABadLine_IsAUsageErrorNamingTheLine()
    {
        string dataset = Path.Combine(_tiny.Root, "bad.jsonl");
        File.WriteAllLines(dataset, ["{\"image\":\"a.png\",\"question\":\"q\",\"answer\":\"a\"}", "{\"image\":\"a.png\",\"question\":7}"]);
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "eval", dataset, "--model", _tiny.Package);
        Assert.Equal(2, code);
        Assert.Contains("bad.jsonl:2: 'question' must be a string", stderr, StringComparison.Ordinal);
    }

    private string Ask(string question, string? roi = null)
    {
        List<string> args = ["ask", _tiny.Image, question, "--model", _tiny.Package, "--profile", "native", "--max-new-tokens", "6", "--json"];
        if (roi is not null)
        {
            args.AddRange(["--roi", roi]);
        }

        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, [.. args]);
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        return doc.RootElement.GetProperty("answer").GetString()!;
    }
}
