using System.Device.Gpio;

namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>Fire on an edge of a GPIO input, ignoring edges within <see cref="DebounceMs"/> of the last accepted one.</summary>
public sealed class GpioTriggerOptions
{
    public string Name { get; set; } = "gpio";

    public string? CameraId { get; set; }

    /// <summary>Pin number in the controller's numbering scheme (logical/BCM by default).</summary>
    public int Pin { get; set; } = -1;

    public PinEventTypes Edge { get; set; } = PinEventTypes.Rising;

    /// <summary>Input, InputPullUp or InputPullDown.</summary>
    public PinMode Mode { get; set; } = PinMode.Input;

    public int DebounceMs { get; set; } = 50;

    internal void Validate(string path, List<string> problems)
    {
        TriggerOptions.Require(!string.IsNullOrWhiteSpace(Name), path, $"Name is required.", problems);
        TriggerOptions.Require(Pin is >= 0 and <= 1023, path, $"Pin must be between 0 and 1023; got {Pin}.", problems);
        TriggerOptions.Require(Edge is PinEventTypes.Rising or PinEventTypes.Falling or (PinEventTypes.Rising | PinEventTypes.Falling), path, $"Edge must be Rising, Falling or both; got {Edge}.", problems);
        TriggerOptions.Require(Mode is PinMode.Input or PinMode.InputPullUp or PinMode.InputPullDown, path, $"Mode must be Input, InputPullUp or InputPullDown; got {Mode}.", problems);
        TriggerOptions.Require(DebounceMs is >= 0 and <= 60_000, path, $"DebounceMs must be between 0 and 60000; got {DebounceMs}.", problems);
    }
}
