using System.Collections.Immutable;
using System.Diagnostics;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Core.Tokens;

namespace LlavaUhd.Edge.Service.Tests.Infrastructure;

/// <summary>A model that takes <paramref name="delay"/> per answer and answers "seen WxH"; for queue and flood tests.</summary>
public sealed class SlowModel(TimeSpan delay, Func<string, bool>? fail = null) : IVisionLanguageModel
{
    private int _inside;

    public string ModelId => "slow-test-model";

    public string Provider => "cpu";

    public EncoderIdentity Encoder { get; } = new("slow-test-model", [.. new byte[EncoderIdentity.HashLength]]);

    /// <summary>The most calls that were inside the model at once (the worker runs one at a time).</summary>
    public int MaxConcurrent { get; private set; }

    public VisualTokens Encode(EncodeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        SlicePlan plan = SlicePlanner.Plan(request.Region.Size, SlicingOptions.For(SliceScheme.Idefics3) with { LongestEdge = 512 });
        int tokens = plan.TotalTokens;
        return new VisualTokens(plan, [.. plan.Views.Select(v => v.Tokens)], 1, new float[tokens], Encoder,
            new PacketSource(request.Camera, request.RoiInFrame, request.FrameTime, request.FrameSequence));
    }

    public VlmAnswer Answer(VisualTokens? image, GenerationRequest request, Action<string>? onToken = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        int inside = Interlocked.Increment(ref _inside);
        MaxConcurrent = Math.Max(MaxConcurrent, inside);
        try
        {
            var sw = Stopwatch.StartNew();
            if (delay > TimeSpan.Zero)
            {
                Task.Delay(delay, cancellationToken).GetAwaiter().GetResult();
            }

            if (fail?.Invoke(request.Question) == true)
            {
                throw new InvalidOperationException("the test model fails on this question");
            }

            string text = image is null ? "no image" : $"seen {image.Source.Roi.Width}x{image.Source.Roi.Height}";
            double ms = sw.Elapsed.TotalMilliseconds;
            return new VlmAnswer(text, new TokenCounts(image?.Total ?? 0, image?.Kept ?? 0, 10, 2), new StageTimings { EncodeMs = 0, DecodeMs = ms, TotalMs = ms, DecodeTokensPerSecond = 2 / Math.Max(ms, 0.001) * 1000 }, Provider, ModelId);
        }
        finally
        {
            Interlocked.Decrement(ref _inside);
        }
    }

    public void Dispose()
    {
    }
}
