using System.Collections.Immutable;

namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>
/// Who made a packet's tokens: the model id and a SHA-256 of the vision encoder and connector weights. A decoder
/// refuses tokens from an encoder it does not match.
/// </summary>
public sealed record EncoderIdentity(string ModelId, ImmutableArray<byte> WeightsHash)
{
    public const int HashLength = 32;

    public string HashHex => Convert.ToHexString(WeightsHash.AsSpan()).ToLowerInvariant();

    public bool Matches(EncoderIdentity other) =>
        other is not null && ModelId == other.ModelId && WeightsHash.AsSpan().SequenceEqual(other.WeightsHash.AsSpan());
}
