namespace LlavaUhd.Edge.Inference.Sessions;

/// <summary>A TensorRT optimisation profile: <c>name:d0xd1x…</c> lists for the smallest, typical and largest shapes.</summary>
public sealed record ShapeProfile(string Min, string Opt, string Max);
