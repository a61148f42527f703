using System.Collections.Immutable;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>
/// The compressed visual tokens of one frame or region, with everything a decoder needs to answer from them: the
/// encoder identity, the slicing options and region size (the decoder re-plans and checks the views), the views
/// and their token counts in encoder order, and the features (tokens × width, float32 after dequantisation).
/// </summary>
public sealed class TokenPacket
{
    public TokenPacket(
        EncoderIdentity encoder,
        SlicingOptions slicing,
        PixelSize original,
        ImmutableArray<PacketView> views,
        PacketSource source,
        int width,
        float[] features)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(slicing);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(features);
        Encoder = encoder;
        Slicing = slicing;
        Original = original;
        Views = views;
        Source = source;
        Width = width;
        Features = features;
        TokenCount = views.Sum(v => v.Tokens);
        if ((long)TokenCount * width != features.Length)
        {
            throw new ArgumentException($"{TokenCount} tokens × {width} = {(long)TokenCount * width} values, but {features.Length} were given.", nameof(features));
        }
    }

    public EncoderIdentity Encoder { get; }

    public SlicingOptions Slicing { get; }

    /// <summary>The region's native size that the plan was made for.</summary>
    public PixelSize Original { get; }

    public ImmutableArray<PacketView> Views { get; }

    public PacketSource Source { get; }

    /// <summary>Feature width (the language model's hidden size for SmolVLM).</summary>
    public int Width { get; }

    public int TokenCount { get; }

    /// <summary>Row-major tokens × width, views in encoder order.</summary>
    public float[] Features { get; }

    /// <summary>The packet's dtype as it was on the wire (set by the reader; Float32 for a packet built in memory).</summary>
    public TokenDType WireDType { get; init; }

    public bool WireBrotli { get; init; }

    public static ImmutableArray<PacketView> ViewsOf(SlicePlan plan, IReadOnlyList<int>? keptTokens = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return [.. plan.Views.Select(v => new PacketView(v.Kind, v.Row, v.Column, v.Size, keptTokens?[v.Index] ?? v.Tokens))];
    }
}
