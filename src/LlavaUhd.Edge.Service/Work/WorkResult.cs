using LlavaUhd.Edge.Core.Pipeline;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>The model's answer and the service's own timings.</summary>
/// <param name="ModelMs">Wall time inside the model (encode + answer), measured around the calls.</param>
internal sealed record WorkResult(VlmAnswer Answer, double QueueMs, double ModelMs, long FrameSequence, DateTimeOffset FrameTime);
