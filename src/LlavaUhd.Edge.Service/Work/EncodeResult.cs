using LlavaUhd.Edge.Core.Pipeline;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>Encoder role: the visual tokens of an item and the service's timings.</summary>
internal sealed record EncodeResult(VisualTokens Tokens, double QueueMs, double ModelMs);
