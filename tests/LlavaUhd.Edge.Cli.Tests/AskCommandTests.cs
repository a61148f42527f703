using System.Text.Json;
using LlavaUhd.Edge.ModelBuilder.Generation;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Tests;

/// <summary>A generated tiny package and a sample image, shared by the inference verbs' tests.</summary>
public sealed class TinyPackageFixture : IDisposable
{
    public TinyPackageFixture()
    {
        Root = Directory.CreateTempSubdirectory("llava-cli-").FullName;
        Package = Path.Combine(Root, "tiny-smolvlm");
        PackageGenerator.Generate(ModelPreset.Get(ModelPreset.TinySmolVlm), Package, seed: 7);
        Image = Path.Combine(Root, "sample.png");
        using Mat sample = Commands.SampleCommand.Render(800, 600, seed: 2);
        Cv2.ImWrite(Image, sample);
    }

    public string Root { get; }

    public string Package { get; }

    public string Image { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public sealed class AskCommandTests : IClassFixture<TinyPackageFixture>
{
    private readonly TinyPackageFixture _tiny;

    public AskCommandTests(TinyPackageFixture tiny) => _tiny = tiny;

    [Fact]
    public void AskJson_HasTheDocumentedFields()
    {
        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, "ask", _tiny.Image, "What is on the belt?", "--model", _tiny.Package, "--max-new-tokens", "6", "--json", "--roi", "100,50,400,300", "--profile", "native");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement r = doc.RootElement;
        Assert.Equal(JsonValueKind.String, r.GetProperty("answer").ValueKind);
        Assert.Equal(64, r.GetProperty("tokens").GetProperty("visual").GetInt32()); // a 400×300 region is one view in 'native'
        Assert.Equal(64, r.GetProperty("tokens").GetProperty("visual_kept").GetInt32());
        Assert.True(r.GetProperty("tokens").GetProperty("prompt").GetInt32() > 64);
        Assert.Equal(6, r.GetProperty("tokens").GetProperty("generated").GetInt32());
        foreach (string stage in new[] { "preprocess", "encode", "prefill", "decode", "total" })
        {
            Assert.True(r.GetProperty("timings_ms").GetProperty(stage).GetDouble() >= 0, stage);
        }

        Assert.True(r.GetProperty("decode_tokens_per_s").GetDouble() > 0);
        Assert.Equal("cpu", r.GetProperty("provider").GetString());
    }

    [Fact]
    public void Ask_StreamsTextThenTheTimings()
    {
        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, "ask", _tiny.Image, "Describe.", "--model", _tiny.Package, "--max-new-tokens", "4", "--profile", "fast");

        Assert.True(code == 0, stderr);
        Assert.Contains("tiny-smolvlm on cpu, fast: 1 views, 64/64 visual tokens", stdout, StringComparison.Ordinal);
        Assert.Contains("tok/s", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--profile", "sharp", "--profile 'sharp'")]
    [InlineData("--roi", "700,500,200,200", "outside the 800x600 frame")]
    [InlineData("--model", "/nonexistent", "does not exist")]
    public void BadArguments_AreClearErrors(string option, string value, string message)
    {
        var args = new List<string> { "ask", _tiny.Image, "q" };
        args.AddRange(option == "--model" ? [option, value] : ["--model", _tiny.Package, option, value]);
        (int code, _, string stderr) = CliProcess.Run(string.Empty, [.. args]);

        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void BenchDecodeJson_HasTheDocumentedFields()
    {
        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, "bench", "decode", "--model", _tiny.Package, "--size", "640x480", "--new-tokens", "8", "--runs", "1", "--profile", "fast", "--json");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        string[] fields = [.. doc.RootElement.EnumerateObject().Select(p => p.Name)];
        Assert.Equal(["encode_ms", "ttft_ms", "decode_tokens_per_s", "outside_ort_pct", "peak_rss_mb", "load_rss_mb", "load_peak_mb", "encode_peak_mb", "answer_peak_mb", "alloc_bytes_per_token", "prefill_tokens_per_s", "context_tokens"], fields);
        Assert.True(doc.RootElement.GetProperty("decode_tokens_per_s").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("prefill_tokens_per_s").GetDouble() > 0);
        // The fast profile: one 64-token view plus the prompt's text.
        Assert.InRange(doc.RootElement.GetProperty("context_tokens").GetInt32(), 64 + 10, 64 + 40);
    }

    /// <summary>
    /// Peak resident memory for a 1080p frame (13 views, an 876-token prompt) at default settings stays within the
    /// package's weights plus the overhead docs/memory.md documents: the runtime (~160 MB) and one request's buffers
    /// (one tile of encoder activations, a 256-token prefill chunk, the KV cache). The tiny package has SmolVLM's
    /// 49 280-token vocabulary, so a whole-prompt prefill's logits alone (172 MB) or all tiles in one encoder call
    /// would break the bound: measured 284 MB at the defaults, 464 MB with an arena per session, the memory pattern and
    /// a whole-prompt prefill, 674 MB with all 13 tiles in one call as well.
    /// </summary>
    [Fact]
    public void BenchDecode_PeakRss_StaysWithinWeightsPlusDocumentedOverhead()
    {
        const double overheadMb = 380;
        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, "bench", "decode", "--model", _tiny.Package, "--size", "1920x1080", "--new-tokens", "8", "--runs", "1", "--json");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement r = doc.RootElement;
        double weightsMb = Directory.EnumerateFiles(Path.Combine(_tiny.Package, "onnx"), "*.onnx").Sum(f => new FileInfo(f).Length) / (1024.0 * 1024.0);
        double peak = r.GetProperty("peak_rss_mb").GetDouble();
        Assert.True(r.GetProperty("context_tokens").GetInt32() > 800, "a 1080p frame at the detail profile makes a prompt of ~876 tokens");
        Assert.True(peak <= weightsMb + overheadMb, $"peak RSS {peak:F0} MB > weights {weightsMb:F1} MB + {overheadMb} MB");
        Assert.InRange(r.GetProperty("load_rss_mb").GetDouble(), 1, peak);

        // 0 where the kernel's high-water mark cannot be restarted per phase (no /proc/self/clear_refs).
        Assert.InRange(r.GetProperty("encode_peak_mb").GetDouble(), 0, peak);
        Assert.InRange(r.GetProperty("answer_peak_mb").GetDouble(), 0, peak);
    }
}

public sealed class TokensCommandTests : IClassFixture<TinyPackageFixture>
{
    private readonly TinyPackageFixture _tiny;

    public TokensCommandTests(TinyPackageFixture tiny) => _tiny = tiny;

    [Fact]
    public void EncodeInspectAsk_FromAPacketFile()
    {
        string packet = Path.Combine(_tiny.Root, "frame.lutk");
        (int c1, string o1, string e1) = CliProcess.Run(string.Empty, "tokens", "encode", _tiny.Image, "--model", _tiny.Package, "--dtype", "fp32", "--roi", "0,0,512,512", "--profile", "native", "--out", packet);
        Assert.True(c1 == 0, e1);
        Assert.Contains("64 tokens", o1, StringComparison.Ordinal);

        (int c2, string o2, string e2) = CliProcess.Run(string.Empty, "tokens", "inspect", packet, "--json");
        Assert.True(c2 == 0, e2);
        using (JsonDocument doc = JsonDocument.Parse(o2))
        {
            Assert.Equal("tiny-smolvlm", doc.RootElement.GetProperty("model").GetString());
            Assert.Equal(64, doc.RootElement.GetProperty("tokens").GetInt32());
            Assert.Equal("fp32", doc.RootElement.GetProperty("dtype").GetString());
            Assert.Equal(new FileInfo(packet).Length, doc.RootElement.GetProperty("bytes").GetInt64());
        }

        (int c3, string fromTokens, string e3) = CliProcess.Run(string.Empty, "ask", "--tokens", packet, "What is it?", "--model", _tiny.Package, "--max-new-tokens", "5", "--json");
        (int c4, string fromPixels, string e4) = CliProcess.Run(string.Empty, "ask", _tiny.Image, "What is it?", "--model", _tiny.Package, "--max-new-tokens", "5", "--json", "--roi", "0,0,512,512", "--profile", "native");
        Assert.True(c3 == 0, e3);
        Assert.True(c4 == 0, e4);
        using JsonDocument a = JsonDocument.Parse(fromTokens);
        using JsonDocument b = JsonDocument.Parse(fromPixels);
        Assert.Equal(b.RootElement.GetProperty("answer").GetString(), a.RootElement.GetProperty("answer").GetString());
        Assert.Equal(b.RootElement.GetProperty("tokens").GetProperty("prompt").GetInt32(), a.RootElement.GetProperty("tokens").GetProperty("prompt").GetInt32());
    }

    [Fact]
    public void Inspect_BadPacket_GivesASpecificErrorAndExitCode1()
    {
        string bad = Path.Combine(_tiny.Root, "bad.lutk");
        File.WriteAllBytes(bad, "LUTK\u0001\0\0\0garbage"u8.ToArray());

        (int code, string stdout, _) = CliProcess.Run(string.Empty, "tokens", "inspect", bad, "--json");

        Assert.Equal(1, code);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        Assert.Equal("Truncated", doc.RootElement.GetProperty("error").GetString());
    }
}

public sealed class QuantizeCommandTests : IClassFixture<TinyPackageFixture>
{
    private readonly TinyPackageFixture _tiny;

    public QuantizeCommandTests(TinyPackageFixture tiny) => _tiny = tiny;

    [Fact]
    public void Quantize_WithRealPixels_WritesAQdqVariantThatAsksAndReportsDrift()
    {
        string package = Path.Combine(_tiny.Root, "to-quantize");
        PackageGenerator.Generate(ModelPreset.Get(ModelPreset.TinySmolVlm), package, seed: 7);
        string calibration = Directory.CreateDirectory(Path.Combine(_tiny.Root, "calibration")).FullName;
        for (int i = 0; i < 4; i++)
        {
            using Mat image = Commands.SampleCommand.Render(640 + (i * 32), 480, seed: 10 + i);
            Cv2.ImWrite(Path.Combine(calibration, $"c{i}.png"), image);
        }

        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, "models", "quantize", package, "--calibration", calibration, "--per-channel", "--weight-range", "reduced", "--json");

        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        foreach (string line in lines)
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            Assert.True(doc.RootElement.GetProperty("cosine").GetDouble() >= 0.99, line);
            Assert.Equal("reduced", doc.RootElement.GetProperty("weight_range").GetString());
            Assert.True(doc.RootElement.GetProperty("bytes_int8").GetInt64() < doc.RootElement.GetProperty("bytes_fp32").GetInt64());
        }

        (int askCode, string answer, string askErr) = CliProcess.Run(string.Empty, "ask", _tiny.Image, "q", "--model", package, "--variant", "qdq-int8", "--profile", "fast", "--max-new-tokens", "3", "--json");
        Assert.True(askCode == 0, askErr);
        Assert.Contains("\"generated\":3", answer, StringComparison.Ordinal);
    }
}
