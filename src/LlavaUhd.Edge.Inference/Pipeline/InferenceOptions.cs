using System.Globalization;
using LlavaUhd.Edge.Core.Compression;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Inference.Providers;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>The <c>Inference</c> configuration section: which model package, on which providers, generating how.</summary>
public sealed class InferenceOptions
{
    public const string SectionName = "Inference";

    /// <summary>The model package folder (the public Hugging Face layout plus model.json).</summary>
    public string Model { get; set; } = "";

    /// <summary>The package variant (fp32, fp16, int8, q8, qdq-int8, …); empty for the package's default.</summary>
    public string? Variant { get; set; }

    /// <summary>Check every file's sha256 at start-up (about 1 s per GB).</summary>
    public bool VerifyHashes { get; set; } = true;

    public ExecutionProviderOptions Providers { get; set; } = new();

    /// <summary>Threads for the pixel path (0 = one per core).</summary>
    public int PixelThreads { get; set; }

    /// <summary>
    /// Most views per vision-encoder call. 0 (the default) = automatic: on a GPU provider all views of a frame, and of
    /// frames that arrive together, in one call; on the CPU <see cref="CpuViewsPerCall"/>, because batching tiles buys
    /// nothing there and every tile in flight holds its activations (a 1080p frame with the SmolVLM-256M-shaped INT8
    /// package peaked at 4.1 GB with all 13 views in one call and 1.35 GB with one).
    /// </summary>
    public int MaxViewsPerEncoderCall { get; set; }

    /// <summary>Views per encoder call on the CPU when <see cref="MaxViewsPerEncoderCall"/> is 0.</summary>
    public const int CpuViewsPerCall = 1;

    /// <summary>The views per call a pipeline uses: the configured cap, or the automatic choice for <paramref name="provider"/> (0 = all).</summary>
    public static int ViewsPerCall(int configured, string provider) =>
        configured > 0 ? configured : provider == ProviderNames.Cpu ? CpuViewsPerCall : 0;

    /// <summary>
    /// Most prompt tokens per decoder call during prefill. 0 (the default) = automatic: the whole prompt on a GPU
    /// provider; on the CPU <see cref="CpuPrefillTokensPerCall"/>, because a decoder without <c>num_logits_to_keep</c>
    /// materialises logits for every prompt position (<c>[1, prompt, vocab]</c> float32: 172 MB for a 1080p frame's
    /// 876-token prompt with SmolVLM's 49 280-token vocabulary) and attention scores grow with the prompt's square;
    /// the prompt then runs in chunks over the KV cache (docs/memory.md). The CPU decoder variant keeps only the last
    /// position's logits and always prefills in one call.
    /// </summary>
    public int MaxPrefillTokensPerCall { get; set; }

    /// <summary>Prompt tokens per prefill call on the CPU when <see cref="MaxPrefillTokensPerCall"/> is 0.</summary>
    public const int CpuPrefillTokensPerCall = 256;

    /// <summary>The prefill chunk a pipeline uses: the configured cap, or the automatic choice for <paramref name="provider"/> (0 = whole prompt).</summary>
    public static int PrefillTokensPerCall(int configured, string provider) =>
        configured > 0 ? configured : provider == ProviderNames.Cpu ? CpuPrefillTokensPerCall : 0;

    /// <summary>Default compression profile: fast, balanced, detail, ocr or native.</summary>
    public string Profile { get; set; } = "detail";

    /// <summary>Entropy pruning threshold (0 = off).</summary>
    public double PruneEntropyThreshold { get; set; }

    /// <summary>Mitigation: slices overlap their neighbours by this fraction of a slice, in whole patches (0 = off, the reference).</summary>
    public double SliceOverlap { get; set; }

    /// <summary>Mitigation: keep the aspect ratio and pad with a mask instead of stretching (off = the reference).</summary>
    public bool PreserveAspect { get; set; }

    /// <summary>Default cap on generated tokens (0 = the package's generation default).</summary>
    public int MaxNewTokens { get; set; }

    /// <summary>Sampling temperature (0 = greedy).</summary>
    public float Temperature { get; set; }

    public int TopK { get; set; }

    public float TopP { get; set; } = 1f;

    public ulong Seed { get; set; } = 0x5EED;

    public CompressionProfile ParsedProfile =>
        CompressionProfiles.TryParse(Profile, out CompressionProfile p) ? p : CompressionProfile.Detail;

    public TokenPruningOptions Pruning => new() { EntropyThreshold = PruneEntropyThreshold };

    /// <summary>Every problem, each naming its key (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (SliceOverlap is < 0 or >= 0.5 || !double.IsFinite(SliceOverlap))
        {
            problems.Add($"Inference:SliceOverlap {SliceOverlap} must be a fraction in [0, 0.5).");
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            problems.Add("Inference:Model is empty: set it to a model package folder (see models-quantized/README.md).");
        }

        if (!CompressionProfiles.TryParse(Profile, out _))
        {
            problems.Add($"Inference:Profile '{Profile}' is not one of {string.Join(", ", CompressionProfiles.Names)}.");
        }

        if (PixelThreads < 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:PixelThreads = {PixelThreads} must be 0 (all cores) or more."));
        }

        if (MaxViewsPerEncoderCall is < 0 or > 64)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:MaxViewsPerEncoderCall = {MaxViewsPerEncoderCall} must be 0 (all) to 64."));
        }

        if (MaxPrefillTokensPerCall is < 0 or > 32_768)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:MaxPrefillTokensPerCall = {MaxPrefillTokensPerCall} must be 0 (automatic) to 32768."));
        }

        if (MaxNewTokens is < 0 or > 32_768)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:MaxNewTokens = {MaxNewTokens} must be 0 (package default) to 32768."));
        }

        problems.AddRange(Pruning.Problems().Select(p => "Inference:" + p));
        problems.AddRange(new Core.Decoding.SamplingOptions { Temperature = Temperature, TopK = TopK, TopP = TopP }.Problems().Select(p => "Inference:" + p));
        problems.AddRange(Providers.Problems());
        return problems;
    }
}
