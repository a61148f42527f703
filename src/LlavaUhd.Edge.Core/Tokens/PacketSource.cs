using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>Where a packet's pixels came from.</summary>
public sealed record PacketSource(string Camera, PixelRect Roi, DateTimeOffset FrameTime, long FrameSequence);
