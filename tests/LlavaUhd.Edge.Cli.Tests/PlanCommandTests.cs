using System.Text.Json;
using LlavaUhd.Edge.Cli.Commands;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Cli.Tests;

public sealed class PlanCommandTests
{
    private static (int Code, string[] Lines) Plan(SliceScheme scheme, params string[] input)
    {
        var output = new StringWriter();
        int code = PlanCommand.Run(SlicingOptions.For(scheme), input, output);
        return (code, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void MiniCpmV_PrintsTheDocumentedFieldsExactly()
    {
        (int code, string[] lines) = Plan(SliceScheme.MiniCpmV, "1920 1080", "448 448");

        Assert.Equal(0, code);
        Assert.Equal("""{"w":1920,"h":1080,"grid":[4,2],"overview":[602,336],"refined":[1680,952],"slice":[420,476]}""", lines[0]);
        Assert.Equal("""{"w":448,"h":448,"grid":null,"overview":[448,448],"refined":null,"slice":null}""", lines[1]);
    }

    [Fact]
    public void Idefics3_PrintsTheDocumentedFieldsExactly()
    {
        (int code, string[] lines) = Plan(SliceScheme.Idefics3, "4032 3024");

        Assert.Equal(0, code);
        Assert.Equal("""{"w":4032,"h":3024,"resized":[2048,1536],"rows":3,"cols":4,"global":[512,512]}""", Assert.Single(lines));
    }

    [Fact]
    public void LlavaUhdV1_UsesTheMiniCpmVFieldSet()
    {
        (_, string[] lines) = Plan(SliceScheme.LlavaUhdV1, "672 1088");

        using JsonDocument doc = JsonDocument.Parse(lines[0]);
        Assert.Equal(["w", "h", "grid", "overview", "refined", "slice"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("refined").ValueKind);
    }

    [Fact]
    public void BadLines_GetAnErrorEach_TheRestGoOn_AndTheExitCodeSaysSo()
    {
        (int code, string[] lines) = Plan(SliceScheme.MiniCpmV, "640 480", "0 480", "abc", "", "640 -3", "# comment", "1344x336");

        Assert.Equal(1, code);
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("""{"w":640,"h":480,"grid":[2,1]""", lines[0], StringComparison.Ordinal);
        Assert.Equal("""{"w":0,"h":480,"error":"width = 0 is invalid: an image side must be between 1 and 65535 pixels."}""", lines[1]);
        Assert.Equal("""{"w":null,"h":null,"error":"line 3: expected two integers 'W H', got 'abc'"}""", lines[2]);
        Assert.Contains("\"error\":\"height = -3 is invalid", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("""{"w":1344,"h":336,"grid":[4,1]""", lines[4], StringComparison.Ordinal);
    }

    [Fact]
    public void RealProcess_StreamsThousandsOfSizesFromStdin()
    {
        var rng = new Random(5);
        string[] sizes = Enumerable.Range(0, 3000).Select(_ => $"{rng.Next(1, 5000)} {rng.Next(1, 5000)}").ToArray();

        (int code, string stdout, string stderr) = CliProcess.Run(string.Join('\n', sizes) + "\n", "plan", "--scheme", "minicpmv");

        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3000, lines.Length);
        for (int i = 0; i < lines.Length; i += 97)
        {
            using JsonDocument doc = JsonDocument.Parse(lines[i]);
            string[] wh = sizes[i].Split(' ');
            Assert.Equal(int.Parse(wh[0], System.Globalization.CultureInfo.InvariantCulture), doc.RootElement.GetProperty("w").GetInt32());
            SlicePlan expected = SlicePlanner.Plan(doc.RootElement.GetProperty("w").GetInt32(), doc.RootElement.GetProperty("h").GetInt32(), SlicingOptions.For(SliceScheme.MiniCpmV));
            Assert.Equal(expected.Overview.Width, doc.RootElement.GetProperty("overview")[0].GetInt32());
        }
    }

    [Fact]
    public void RealProcess_InvalidOption_ExitsWithUsageError()
    {
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "plan", "--scheme", "minicpmv", "--max-slices", "0", "--width", "10", "--height", "10");

        Assert.Equal(2, code);
        Assert.Contains("maxSlices = 0 is invalid", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void RealProcess_SingleSize_FromWidthAndHeight()
    {
        (int code, string stdout, _) = CliProcess.Run(string.Empty, "plan", "--scheme", "idefics3", "--width", "1920", "--height", "1080");

        Assert.Equal(0, code);
        Assert.Equal("""{"w":1920,"h":1080,"resized":[2048,1536],"rows":3,"cols":4,"global":[512,512]}""", stdout.Trim());
    }
}
