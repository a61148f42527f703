using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Service.Frames;

/// <summary>The slice plan of an answer and the region of the frame it was made for (frame pixels).</summary>
internal sealed record AnsweredPlan(SlicePlan Plan, PixelRect Roi, long FrameSequence);
