namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>Fire when a HC-SR501 PIR sensor on <see cref="Pin"/> reports motion, at most once per <see cref="CooldownMs"/>.</summary>
public sealed class PirTriggerOptions
{
    public string Name { get; set; } = "pir";

    public string? CameraId { get; set; }

    public int Pin { get; set; } = -1;

    public int CooldownMs { get; set; } = 2_000;

    internal void Validate(string path, List<string> problems)
    {
        TriggerOptions.Require(!string.IsNullOrWhiteSpace(Name), path, $"Name is required.", problems);
        TriggerOptions.Require(Pin is >= 0 and <= 1023, path, $"Pin must be between 0 and 1023; got {Pin}.", problems);
        TriggerOptions.Require(CooldownMs >= 0, path, $"CooldownMs must be >= 0; got {CooldownMs}.", problems);
    }
}
