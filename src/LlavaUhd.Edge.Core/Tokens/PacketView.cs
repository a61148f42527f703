using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>One view's tokens in a packet: what the view is and how many tokens (after pruning) it contributes.</summary>
public sealed record PacketView(ViewKind Kind, int Row, int Column, PixelSize Size, int Tokens);
