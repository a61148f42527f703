namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>Fire when motion is seen (in <see cref="Zone"/> if set), at most once per <see cref="CooldownMs"/>.</summary>
public sealed class MotionTriggerOptions
{
    public string Name { get; set; } = "motion";

    public string? CameraId { get; set; }

    /// <summary>Name of one of the camera's zones; motion must overlap it. Empty: anywhere.</summary>
    public string? Zone { get; set; }

    public int CooldownMs { get; set; } = 5_000;

    internal void Validate(string path, List<string> problems)
    {
        TriggerOptions.Require(!string.IsNullOrWhiteSpace(Name), path, $"Name is required.", problems);
        TriggerOptions.Require(CooldownMs >= 0, path, $"CooldownMs must be >= 0; got {CooldownMs}.", problems);
    }
}
