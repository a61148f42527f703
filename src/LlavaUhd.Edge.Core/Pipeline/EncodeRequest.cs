using LlavaUhd.Edge.Core.Compression;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Pipeline;

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
