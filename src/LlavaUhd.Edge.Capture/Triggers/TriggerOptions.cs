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
