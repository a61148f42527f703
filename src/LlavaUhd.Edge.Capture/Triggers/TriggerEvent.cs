namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>
/// A reason to ask the model now: which trigger, when, for which camera, the question if one came with it, and the
/// region that caused it (a motion trigger's box, in native pixels) when there is one.
/// </summary>
public sealed record TriggerEvent(
    string TriggerName,
    TriggerKind Kind,
    DateTimeOffset Timestamp,
    string? CameraId = null,
    string? Question = null,
    string? Detail = null,
    string? CorrelationId = null,
    LlavaUhd.Edge.Core.Slicing.PixelRect? Roi = null);
