using System.Diagnostics;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Service.Frames;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>Encoder role: the visual tokens of an item and the service's timings.</summary>
internal sealed record EncodeResult(VisualTokens Tokens, double QueueMs, double ModelMs);
