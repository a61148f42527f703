namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>Why a packet was refused.</summary>
public enum TokenPacketError
{
    Truncated,
    BadMagic,
    UnsupportedVersion,
    ChecksumMismatch,
    InvalidHeader,
    PayloadSizeMismatch,
    DecompressionFailed,
    TooLarge,
    EncoderMismatch,
    PlanMismatch,
}
