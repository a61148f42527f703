using System.Collections.Immutable;
using LlavaUhd.Edge.Core.Compression;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Core.Tokens;

namespace LlavaUhd.Edge.Core.Pipeline;

/// <summary>
/// How hard to look: how many views a region gets. Token counts and costs per profile are measured in the README.
/// </summary>
public enum CompressionProfile
{
    /// <summary>Overview only (MiniCPM-V) or a single global tile (SmolVLM): the fewest tokens.</summary>
    Fast,

    /// <summary>A few slices (MiniCPM-V: at most 4; SmolVLM: longest edge 2 tiles).</summary>
    Balanced,

    /// <summary>The model's reference slicing (max slices / longest edge of the package): bit-exact with the reference processor.</summary>
    Detail,

    /// <summary>Detail, keeping the aspect ratio with padding instead of stretching (text stays undistorted).</summary>
    Ocr,

    /// <summary>Never upscale a region beyond its native resolution (a 400-px region costs one SmolVLM view instead of seventeen).</summary>
    Native,
}

public static class CompressionProfiles
{
    public static IReadOnlyList<string> Names { get; } = ["fast", "balanced", "detail", "ocr", "native"];

    public static string ToName(this CompressionProfile profile) => profile.ToString().ToLowerInvariant();

    public static bool TryParse(string? name, out CompressionProfile profile) =>
        Enum.TryParse(name, ignoreCase: true, out profile) && Enum.IsDefined(profile);

    /// <summary>
    /// The slicing options of <paramref name="profile"/> for a region of <paramref name="region"/> pixels, derived
    /// from the model's reference options <paramref name="detail"/>.
    /// </summary>
    public static SlicingOptions Apply(this CompressionProfile profile, SlicingOptions detail, PixelSize region)
    {
        ArgumentNullException.ThrowIfNull(detail);
        bool idefics = detail.Scheme == SliceScheme.Idefics3;
        int tile = detail.TileSize;
        return profile switch
        {
            CompressionProfile.Fast => idefics ? detail with { LongestEdge = tile } : detail with { MaxSlices = 1 },
            CompressionProfile.Balanced => idefics
                ? detail with { LongestEdge = Math.Min(detail.LongestEdge, 2 * tile) }
                : detail with { MaxSlices = Math.Min(detail.MaxSlices, 4) },
            CompressionProfile.Ocr => detail with { PreserveAspect = true },
            CompressionProfile.Native => idefics
                ? detail with { LongestEdge = Math.Clamp(CeilTo(Math.Max(region.Width, region.Height), tile), tile, detail.LongestEdge) }
                : detail with { MaxSlices = Math.Clamp((int)Math.Ceiling((double)region.Area / ((double)detail.ScaleResolution * detail.ScaleResolution)), 1, detail.MaxSlices) },
            _ => detail,
        };
    }

    private static int CeilTo(int value, int unit) => (value + unit - 1) / unit * unit;
}

/// <summary>What to encode: a region (a view of a frame, no copy) and where it came from.</summary>
public sealed record EncodeRequest(ImageView Region)
{
    public CompressionProfile Profile { get; init; } = CompressionProfile.Detail;

    /// <summary>Entropy pruning of visual tokens (off by default).</summary>
    public TokenPruningOptions Pruning { get; init; } = new();

    public string Camera { get; init; } = "";

    /// <summary>The region's rectangle in the frame (native pixels).</summary>
    public PixelRect RoiInFrame { get; init; }

    public DateTimeOffset FrameTime { get; init; } = DateTimeOffset.UtcNow;

    public long FrameSequence { get; init; }
}

/// <summary>What to generate: the question and how.</summary>
public sealed record GenerationRequest(string Question)
{
    /// <summary>Null: the package's defaults (greedy, its stop tokens, its max new tokens).</summary>
    public SamplingOptions? Sampling { get; init; }

    /// <summary>Overrides <see cref="SamplingOptions.MaxNewTokens"/>.</summary>
    public int? MaxNewTokens { get; init; }

    /// <summary>
    /// Null: free text. Otherwise the decoder may only produce text of this type (docs/typed-answers.md) and the answer
    /// carries its <see cref="VlmAnswer.Value"/>; <see cref="MaxNewTokens"/> is raised to what the type needs.
    /// </summary>
    public AnswerType? AnswerType { get; init; }
}

/// <summary>Milliseconds spent per stage.</summary>
public sealed record StageTimings
{
    public double PreprocessMs { get; init; }

    public double EncodeMs { get; init; }

    public double CompressMs { get; init; }

    /// <summary>Prompt assembly + prefill up to the first token (time to first token, after encoding).</summary>
    public double PrefillMs { get; init; }

    public double DecodeMs { get; init; }

    public double TotalMs { get; init; }

    public double DecodeTokensPerSecond { get; init; }
}

/// <summary>
/// The compressed visual tokens of one region: the seam where the service can be cut in two (encoder role on the
/// device, decoder role elsewhere). Everything the decoder needs is here or in the plan.
/// </summary>
public sealed class VisualTokens
{
    public VisualTokens(SlicePlan plan, ImmutableArray<int> keptPerView, int width, float[] features, EncoderIdentity encoder, PacketSource source)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(features);
        if (keptPerView.Length != plan.Views.Length)
        {
            throw new ArgumentException($"{keptPerView.Length} kept counts for {plan.Views.Length} views.", nameof(keptPerView));
        }

        Plan = plan;
        KeptPerView = keptPerView;
        Width = width;
        Features = features;
        Encoder = encoder;
        Source = source;
        Kept = keptPerView.Sum();
        if ((long)Kept * width != features.Length)
        {
            throw new ArgumentException($"{Kept} tokens × {width} ≠ {features.Length} feature values.", nameof(features));
        }
    }

    public SlicePlan Plan { get; }

    /// <summary>Tokens kept per view (after pruning), by view index.</summary>
    public ImmutableArray<int> KeptPerView { get; }

    public int Width { get; }

    /// <summary>Kept tokens × width, views in encoder order.</summary>
    public float[] Features { get; }

    public EncoderIdentity Encoder { get; }

    public PacketSource Source { get; }

    /// <summary>Visual tokens before pruning.</summary>
    public int Total => Plan.TotalTokens;

    public int Kept { get; }

    public StageTimings Timings { get; init; } = new();

    public TokenPacket ToPacket() => new(Encoder, Plan.Options, Plan.Original, TokenPacket.ViewsOf(Plan, KeptPerView), Source, Width, Features);

    /// <summary>Tokens from a packet, after checking it was made by <paramref name="expected"/> and re-planning its views.</summary>
    public static VisualTokens FromPacket(TokenPacket packet, EncoderIdentity expected)
    {
        SlicePlan plan = TokenPacketCodec.Verify(packet, expected);
        return new VisualTokens(plan, [.. packet.Views.Select(v => v.Tokens)], packet.Width, packet.Features, packet.Encoder, packet.Source);
    }
}

public sealed record TokenCounts(int Visual, int VisualKept, int Prompt, int Generated);

/// <summary>An answer with its costs.</summary>
public sealed record VlmAnswer(string Text, TokenCounts Tokens, StageTimings Timings, string Provider, string Model)
{
    /// <summary>Why generation stopped: <c>stop_token</c>, <c>max_tokens</c> or <c>cancelled</c>.</summary>
    public string StopReason { get; init; } = "stop_token";

    /// <summary>The generated token ids (without the stop token).</summary>
    public IReadOnlyList<int> TokenIds { get; init; } = [];

    /// <summary>The typed value of a typed answer (<see cref="GenerationRequest.AnswerType"/>); null for free text.</summary>
    public System.Text.Json.JsonElement? Value { get; init; }
}

/// <summary>A vision-language model that answers questions about regions: encode once, answer one or more questions.</summary>
public interface IVisionLanguageModel : IDisposable
{
    /// <summary>The package name (model.json's name).</summary>
    string ModelId { get; }

    /// <summary>The execution provider the sessions run on (tensorrt, cuda, cpu).</summary>
    string Provider { get; }

    /// <summary>Who this model's visual tokens come from (model id + vision/connector weights hash).</summary>
    EncoderIdentity Encoder { get; }

    /// <summary>Plans, preprocesses, encodes and compresses a region.</summary>
    VisualTokens Encode(EncodeRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Checks a question before any work is queued: null when it can be asked, else why not (it spells a reserved
    /// model token, or it is too long). Models without a tokenizer of their own accept every question.
    /// </summary>
    QuestionProblem? CheckQuestion(string question) => null;

    /// <summary>
    /// Encodes regions that arrived together, results in request order. Models that can batch (the ONNX pipeline:
    /// one encoder call for all tiles) override this; the default encodes one by one.
    /// </summary>
    IReadOnlyList<VisualTokens> EncodeBatch(IReadOnlyList<EncodeRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var tokens = new VisualTokens[requests.Count];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = Encode(requests[i], cancellationToken);
        }

        return tokens;
    }

    /// <summary>Answers <paramref name="request"/> about <paramref name="image"/> (or text only when null), streaming text pieces to <paramref name="onToken"/>.</summary>
    VlmAnswer Answer(VisualTokens? image, GenerationRequest request, Action<string>? onToken = null, CancellationToken cancellationToken = default);
}
