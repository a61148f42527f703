namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>Fire every <see cref="IntervalMs"/> milliseconds.</summary>
public sealed class IntervalTriggerOptions
{
    public string Name { get; set; } = "interval";

    public string? CameraId { get; set; }

    public int IntervalMs { get; set; } = 10_000;

    internal void Validate(string path, List<string> problems)
    {
        TriggerOptions.Require(!string.IsNullOrWhiteSpace(Name), path, $"Name is required.", problems);
        TriggerOptions.Require(IntervalMs >= 10, path, $"IntervalMs must be at least 10; got {IntervalMs}.", problems);
    }
}
