using System.Text.Json;

namespace LlavaUhd.Edge.Cli.Tests;

/// <summary>
/// The demo models by name (docs/llava-uhd.md): <c>--model demo:llava-uhd-v1|v3</c> builds the trained package on
/// first use and answers through the family's path — a 1280×720 frame at <c>detail</c> is an overview and 3 × 2 slices,
/// each compressed to the model's queries (64 for v1, 36 for v3 with progressive compression).
/// </summary>
public sealed class DemoModelNamesTests
{
    [Theory]
    [InlineData("demo:llava-uhd-v1", 64)]
    [InlineData("demo:llava-uhd-v3", 36)]
    public void ADemoModelByName_AnswersWithItsTokensPerView(string model, int queries)
    {
        string dir = Directory.CreateTempSubdirectory("demo-names").FullName;
        string image = Path.Combine(dir, "frame.png");
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "sample", "--size", "1280x720", "--seed", "8", "--out", image);
        Assert.True(code == 0, stderr);

        (code, string stdout, stderr) = CliProcess.Run(string.Empty, "ask", image, "How many parcels are on the belt?", "--model", model, "--profile", "detail", "--json");

        Assert.True(code == 0, stderr);
        JsonElement answer = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(7 * queries, answer.GetProperty("tokens").GetProperty("visual").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(answer.GetProperty("answer").GetString()));
    }

    [Fact]
    public void AnUnknownDemoName_IsRefusedListingTheKnownOnes()
    {
        string image = Path.Combine(Directory.CreateTempSubdirectory("demo-names").FullName, "frame.png");
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "sample", "--size", "640x360", "--out", image);
        Assert.True(code == 0, stderr);

        (code, _, stderr) = CliProcess.Run(string.Empty, "ask", image, "How many?", "--model", "demo:llava-uhd-v2");

        Assert.Equal(2, code);
        Assert.Contains("demo:llava-uhd-v1", stderr, StringComparison.Ordinal);
        Assert.Contains("demo:llava-uhd-v3", stderr, StringComparison.Ordinal);
    }
}
