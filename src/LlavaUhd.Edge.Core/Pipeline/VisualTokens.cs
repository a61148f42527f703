using System.Collections.Immutable;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Core.Tokens;

namespace LlavaUhd.Edge.Core.Pipeline;

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
