using System.Text.Json;

namespace LlavaUhd.Edge.Cli.Tests;

/// <summary><c>models optimize</c> on the trained demo model: the CPU variant beside the standard one, optionally as the default.</summary>
public sealed class ModelsOptimizeCommandTests : IClassFixture<TinyPackageFixture>
{
    private readonly TinyPackageFixture _tiny;

    public ModelsOptimizeCommandTests(TinyPackageFixture tiny) => _tiny = tiny;

    [Fact]
    public void Default_MakesTheCpuVariantWhatAskLoads_WithTheStandardAnswer()
    {
        string dir = Path.Combine(_tiny.Root, "demo-" + Guid.NewGuid().ToString("N"));
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "models", "generate", "--preset", "demo-smolvlm", "--out", dir);
        Assert.True(code == 0, stderr);
        (code, string stdout, stderr) = CliProcess.Run(string.Empty, "models", "optimize", dir, "--bits", "8", "--default");
        Assert.True(code == 0, stderr);
        Assert.Contains("now the package's default", stdout, StringComparison.Ordinal);

        // the drift report: the trained demo model's 8-bit variant against its fp32 graphs
        System.Text.RegularExpressions.Match drift = System.Text.RegularExpressions.Regex.Match(stdout, @"drift against fp32: logits cosine >= ([0-9.]+) over (\d+) steps, (\d+) of 8 greedy tokens the same; image features cosine ([0-9.]+)");
        Assert.True(drift.Success, stdout);
        Assert.True(double.Parse(drift.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 0.9999, drift.Value);
        Assert.Equal("8", drift.Groups[2].Value);
        Assert.Equal("8", drift.Groups[3].Value);
        Assert.True(double.Parse(drift.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture) >= 0.999, drift.Value);

        using (JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "model.json"))))
        {
            Assert.Equal("cpu-int8", manifest.RootElement.GetProperty("defaultVariant").GetString());
            string[] variants = [.. manifest.RootElement.GetProperty("variants").EnumerateObject().Select(p => p.Name)];
            Assert.Contains("fp32", variants);
            Assert.Contains("cpu-int8", variants);
        }

        string Ask(params string[] extra)
        {
            (int c, string o, string e) = CliProcess.Run(string.Empty, ["ask", _tiny.Image, "How many parcels are on the belt?", "--model", dir, "--json", .. extra]);
            Assert.True(c == 0, e);
            using JsonDocument doc = JsonDocument.Parse(o);
            return doc.RootElement.GetProperty("answer").GetString()!;
        }

        Assert.Equal(Ask("--variant", "fp32"), Ask());
    }

    [Fact]
    public void ABlockSizeThatIsNotAPowerOfTwo_IsRefusedWithTheRange()
    {
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "models", "optimize", _tiny.Package, "--block-size", "48");

        Assert.NotEqual(0, code);
        Assert.Contains("--block-size must be a power of two from 16 to 256 (got 48)", stderr, StringComparison.Ordinal);
    }
}
