using System.Device.Gpio;
using System.Globalization;
using LlavaUhd.Edge.Capture.Errors;

namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>All triggers (the "Triggers" configuration section).</summary>
public sealed class TriggerOptions
{
    public const string SectionName = "Triggers";

    public IList<IntervalTriggerOptions> Interval { get; init; } = [];

    public IList<MotionTriggerOptions> Motion { get; init; } = [];

    public IList<GpioTriggerOptions> Gpio { get; init; } = [];

    public IList<PirTriggerOptions> Pir { get; init; } = [];

    public IList<GpioOutputOptions> Outputs { get; init; } = [];

    /// <summary>Every problem in every trigger, plus duplicate names and pins used twice; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var pins = new HashSet<int>();
        Each(Interval, "Interval", (o, p) => o.Validate(p, problems), o => o.Name, null);
        Each(Motion, "Motion", (o, p) => o.Validate(p, problems), o => o.Name, null);
        Each(Gpio, "Gpio", (o, p) => o.Validate(p, problems), o => o.Name, o => o.Pin);
        Each(Pir, "Pir", (o, p) => o.Validate(p, problems), o => o.Name, o => o.Pin);
        Each(Outputs, "Outputs", (o, p) => o.Validate(p, problems), o => o.Name, o => o.Pin);
        return problems;

        void Each<T>(IList<T> list, string key, Action<T, string> validate, Func<T, string> name, Func<T, int>? pin)
            where T : class
        {
            for (int i = 0; i < list.Count; i++)
            {
                string path = string.Create(CultureInfo.InvariantCulture, $"{SectionName}:{key}[{i}]");
                T? item = list[i];
                if (item is null)
                {
                    problems.Add($"{path}: is empty.");
                    continue;
                }

                validate(item, path);
                if (!string.IsNullOrWhiteSpace(name(item)) && !names.Add(name(item)))
                {
                    problems.Add($"{path}: trigger name '{name(item)}' is used twice.");
                }

                if (pin is not null && !pins.Add(pin(item)))
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: GPIO pin {pin(item)} is used twice."));
                }
            }
        }
    }

    public void ThrowIfInvalid()
    {
        IReadOnlyList<string> problems = Validate();
        if (problems.Count > 0)
        {
            throw new CaptureConfigurationException(problems);
        }
    }

    internal static void Require(bool ok, string path, FormattableString message, List<string> problems)
    {
        if (!ok)
        {
            problems.Add($"{path}: {message.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    internal static void ThrowIfInvalid(Action<string, List<string>> validate, string path)
    {
        var problems = new List<string>();
        validate(path, problems);
        if (problems.Count > 0)
        {
            throw new CaptureConfigurationException(problems);
        }
    }
}

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

/// <summary>How an answer is compared with <see cref="GpioOutputOptions.Match"/>.</summary>
public enum AnswerMatch
{
    /// <summary>The answer contains the text (case-insensitive).</summary>
    Contains,

    /// <summary>The trimmed answer equals the text (case-insensitive).</summary>
    Equals,

    /// <summary>The answer matches the regular expression (case-insensitive).</summary>
    Regex,
}

/// <summary>Drive an output pin when an answer matches a condition: held while answers match, or a pulse.</summary>
public sealed class GpioOutputOptions
{
    public string Name { get; set; } = "output";

    public int Pin { get; set; } = -1;

    public string Match { get; set; } = "";

    public AnswerMatch MatchKind { get; set; } = AnswerMatch.Contains;

    /// <summary>True: High means active. False: Low means active (active-low relays).</summary>
    public bool ActiveHigh { get; set; } = true;

    /// <summary>0: the pin follows the last answer (active while it matches). Above 0: an active pulse this long.</summary>
    public int PulseMs { get; set; }

    internal void Validate(string path, List<string> problems)
    {
        TriggerOptions.Require(!string.IsNullOrWhiteSpace(Name), path, $"Name is required.", problems);
        TriggerOptions.Require(Pin is >= 0 and <= 1023, path, $"Pin must be between 0 and 1023; got {Pin}.", problems);
        TriggerOptions.Require(!string.IsNullOrEmpty(Match), path, $"Match is required (the text or pattern an answer must match).", problems);
        TriggerOptions.Require(Enum.IsDefined(MatchKind), path, $"MatchKind must be Contains, Equals or Regex; got {MatchKind}.", problems);
        TriggerOptions.Require(PulseMs is >= 0 and <= 600_000, path, $"PulseMs must be between 0 and 600000; got {PulseMs}.", problems);
        if (MatchKind == AnswerMatch.Regex && !string.IsNullOrEmpty(Match))
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(Match);
            }
            catch (ArgumentException ex)
            {
                problems.Add($"{path}: Match is not a valid regular expression: {ex.Message}");
            }
        }
    }
}
