using System.Text.Json;

namespace LlavaUhd.Edge.Cli.Tests;

/// <summary><c>bench generate</c> (the decoder alone, variants side by side) and the ONNX Runtime profile it can write.</summary>
public sealed class BenchGenerateCommandTests : IClassFixture<TinyPackageFixture>
{
    private readonly TinyPackageFixture _tiny;

    public BenchGenerateCommandTests(TinyPackageFixture tiny) => _tiny = tiny;

    [Fact]
    public void Json_OneObjectPerVariant_WithTheDocumentedFields()
    {
        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, "bench", "generate", "--model", _tiny.Package, "--variants", "fp32,fp32", "--context", "40", "--new-tokens", "6", "--rounds", "2", "--json");

        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        foreach (string line in lines)
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement r = doc.RootElement;
            Assert.Equal(["variant", "fused", "context_tokens", "new_tokens", "rounds", "prefill_tokens_per_s", "decode_tokens_per_s", "decode_min", "decode_max", "ratio_to_first"], [.. r.EnumerateObject().Select(p => p.Name)]);
            Assert.Equal("fp32", r.GetProperty("variant").GetString());
            Assert.False(r.GetProperty("fused").GetBoolean());
            Assert.Equal(40, r.GetProperty("context_tokens").GetInt32());
            double decode = r.GetProperty("decode_tokens_per_s").GetDouble();
            Assert.True(decode > 0);
            Assert.InRange(decode, r.GetProperty("decode_min").GetDouble(), r.GetProperty("decode_max").GetDouble());
            Assert.True(r.GetProperty("prefill_tokens_per_s").GetDouble() > 0);
        }

        using JsonDocument first = JsonDocument.Parse(lines[0]);
        Assert.Equal(1.0, first.RootElement.GetProperty("ratio_to_first").GetDouble());
    }

    [Fact]
    public void Bandwidth_AddsTheBoundTheDecoderWeightsSet()
    {
        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, "bench", "generate", "--model", _tiny.Package, "--variants", "fp32", "--context", "20", "--new-tokens", "4", "--rounds", "1", "--bandwidth", "--json");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement r = doc.RootElement;
        double decoderMb = new FileInfo(Path.Combine(_tiny.Package, "onnx", "decoder_model_merged.onnx")).Length / 1e6;
        Assert.Equal(decoderMb, r.GetProperty("decoder_mb").GetDouble(), 0.1);
        double gbps = r.GetProperty("read_gb_per_s").GetDouble();
        Assert.InRange(gbps, 0.5, 2000);
        double expected = 100 * r.GetProperty("decode_tokens_per_s").GetDouble() * decoderMb * 1e6 / (gbps * 1e9);
        Assert.Equal(expected, r.GetProperty("bandwidth_bound_pct").GetDouble(), 0.2);
    }

    [Fact]
    public void UnknownVariant_FailsWithTheVariantsThePackageHas()
    {
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "bench", "generate", "--model", _tiny.Package, "--variants", "fp32,cpu-int9", "--rounds", "1");

        Assert.NotEqual(0, code);
        Assert.Contains("cpu-int9", stderr, StringComparison.Ordinal);
        Assert.Contains("fp32", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void OrtProfile_WritesOneTracePerSession_WithEveryRunAndItsOperators()
    {
        string dir = Path.Combine(_tiny.Root, "profile-" + Guid.NewGuid().ToString("N"));
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "bench", "generate", "--model", _tiny.Package, "--variants", "fp32", "--context", "20", "--new-tokens", "4", "--rounds", "1", "--ort-profile", dir);

        Assert.True(code == 0, stderr);
        string decoder = Assert.Single(Directory.GetFiles(dir, "*decoder_model_merged*.json"));
        using JsonDocument trace = JsonDocument.Parse(File.ReadAllText(decoder));
        JsonElement[] events = [.. trace.RootElement.EnumerateArray()];

        // warm-up + one round, each a prefill and three steps: 8 runs of the decoder, each with its operators
        Assert.Equal(8, events.Count(e => e.GetProperty("cat").GetString() == "Session" && e.GetProperty("name").GetString() == "model_run"));
        Assert.Contains(events, e => e.GetProperty("cat").GetString() == "Node" && e.GetProperty("args").TryGetProperty("op_name", out JsonElement op) && op.GetString() == "MatMul");
    }
}
