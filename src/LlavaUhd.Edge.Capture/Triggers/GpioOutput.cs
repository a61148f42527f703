using System.Device.Gpio;
using System.Text.RegularExpressions;

namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>
/// Drives an output pin (relay, lamp, PLC input) when an answer matches a condition. With no pulse the pin follows
/// each answer (active while answers match); with <see cref="GpioOutputOptions.PulseMs"/> a match gives an active pulse.
/// </summary>
public sealed class GpioOutput : IDisposable
{
    private readonly GpioController _controller;
    private readonly GpioOutputOptions _options;
    private readonly Regex? _regex;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private ITimer? _pulse;

    public GpioOutput(GpioController controller, GpioOutputOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(controller);
        ArgumentNullException.ThrowIfNull(options);
        TriggerOptions.ThrowIfInvalid(options.Validate, nameof(GpioOutput));
        _controller = controller;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _regex = options.MatchKind == AnswerMatch.Regex
            ? new Regex(options.Match, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100))
            : null;
        controller.OpenPin(options.Pin, PinMode.Output, Inactive);
    }

    private PinValue Active => _options.ActiveHigh ? PinValue.High : PinValue.Low;

    private PinValue Inactive => _options.ActiveHigh ? PinValue.Low : PinValue.High;

    public bool Matches(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return _options.MatchKind switch
        {
            AnswerMatch.Contains => answer.Contains(_options.Match, StringComparison.OrdinalIgnoreCase),
            AnswerMatch.Equals => answer.Trim().Equals(_options.Match, StringComparison.OrdinalIgnoreCase),
            _ => _regex!.IsMatch(answer),
        };
    }

    /// <summary>Applies one answer to the pin; returns whether it matched.</summary>
    public bool Apply(string answer)
    {
        bool match = Matches(answer);
        lock (_lock)
        {
            if (_options.PulseMs == 0)
            {
                _controller.Write(_options.Pin, match ? Active : Inactive);
            }
            else if (match)
            {
                _pulse?.Dispose();
                _controller.Write(_options.Pin, Active);
                _pulse = _time.CreateTimer(_ => EndPulse(), null, TimeSpan.FromMilliseconds(_options.PulseMs), Timeout.InfiniteTimeSpan);
            }
        }

        return match;
    }

    private void EndPulse()
    {
        lock (_lock)
        {
            if (_controller.IsPinOpen(_options.Pin))
            {
                _controller.Write(_options.Pin, Inactive);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _pulse?.Dispose();
            if (_controller.IsPinOpen(_options.Pin))
            {
                _controller.Write(_options.Pin, Inactive);
                _controller.ClosePin(_options.Pin);
            }
        }
    }
}
