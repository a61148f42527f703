using System.Diagnostics;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Service.Frames;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>The model's answer and the service's own timings.</summary>
/// <param name="ModelMs">Wall time inside the model (encode + answer), measured around the calls.</param>
internal sealed record WorkResult(VlmAnswer Answer, double QueueMs, double ModelMs, long FrameSequence, DateTimeOffset FrameTime);
