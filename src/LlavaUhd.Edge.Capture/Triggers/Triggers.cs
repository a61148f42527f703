using System.Device.Gpio;
using System.Globalization;
using System.Text.RegularExpressions;
using Iot.Device.Hcsr501;
using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>Fires every <see cref="IntervalTriggerOptions.IntervalMs"/> on a <see cref="TimeProvider"/> timer.</summary>
public sealed class IntervalTrigger : Trigger
{
    private readonly ITimer _timer;

    public IntervalTrigger(IntervalTriggerOptions options, TimeProvider? timeProvider = null)
        : base(Checked(options).Name, options.CameraId, timeProvider)
    {
        TimeSpan interval = TimeSpan.FromMilliseconds(options.IntervalMs);
        _timer = Time.CreateTimer(_ => Raise(), null, interval, interval);
    }

    public override TriggerKind Kind => TriggerKind.Interval;

    private static IntervalTriggerOptions Checked(IntervalTriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TriggerOptions.ThrowIfInvalid(options.Validate, nameof(IntervalTrigger));
        return options;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timer.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// Fires when the regions of a frame contain motion (overlapping the configured zone, if any), at most once per
/// cooldown measured on frame timestamps. Feed it with <see cref="Observe"/> after ROI selection.
/// </summary>
public sealed class MotionTrigger : Trigger
{
    private readonly MotionTriggerOptions _options;
    private readonly ZoneOptions? _zone;
    private DateTimeOffset? _lastFired;

    /// <param name="zones">The camera's zones; <see cref="MotionTriggerOptions.Zone"/> must name one of them.</param>
    public MotionTrigger(MotionTriggerOptions options, IEnumerable<ZoneOptions>? zones = null, TimeProvider? timeProvider = null)
        : base(Checked(options).Name, options.CameraId, timeProvider)
    {
        _options = options;
        if (!string.IsNullOrEmpty(options.Zone))
        {
            _zone = zones?.FirstOrDefault(z => z.Name == options.Zone)
                ?? throw new Errors.CaptureConfigurationException($"{nameof(MotionTrigger)} ({options.Name}): zone '{options.Zone}' is not one of the camera's zones.");
        }
    }

    public override TriggerKind Kind => TriggerKind.Motion;

    /// <summary>Looks at one frame's regions; returns the event when the trigger fired.</summary>
    public TriggerEvent? Observe(Frame frame, IReadOnlyList<Region> regions)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(regions);
        PixelRect? zone = _zone is null ? null : ZoneSet.ToPixels(_zone, frame.Pixels.Size);
        PixelRect? hit = null;
        foreach (Region region in regions)
        {
            if (region.Reason == RegionReason.Motion && (zone is null || !zone.Value.Intersect(region.Rect).IsEmpty))
            {
                hit = region.Rect;
                break;
            }
        }

        if (hit is null || (_lastFired is { } last && (frame.Timestamp - last).TotalMilliseconds < _options.CooldownMs))
        {
            return null;
        }

        _lastFired = frame.Timestamp;
        string where = _zone is null ? "" : $" in zone {_zone.Name}";
        return Raise(string.Create(CultureInfo.InvariantCulture, $"motion{where} at {hit.Value} (frame {frame.Sequence})"), cameraId: frame.CameraId, roi: hit);
    }

    private static MotionTriggerOptions Checked(MotionTriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TriggerOptions.ThrowIfInvalid(options.Validate, nameof(MotionTrigger));
        return options;
    }
}

/// <summary>
/// Fires on an edge of a GPIO input through a <see cref="GpioController"/> (inject it: a real board's controller, or
/// one over a simulated <see cref="GpioDriver"/> in tests). Edges within the debounce window of the last accepted
/// edge are ignored (contact bounce). The controller is not disposed unless <c>shouldDispose</c>.
/// </summary>
public sealed class GpioTrigger : Trigger
{
    private readonly GpioController _controller;
    private readonly GpioTriggerOptions _options;
    private readonly Debouncer _debouncer;
    private readonly bool _shouldDispose;

    public GpioTrigger(GpioController controller, GpioTriggerOptions options, TimeProvider? timeProvider = null, bool shouldDispose = false)
        : base(Checked(options).Name, options.CameraId, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _controller = controller;
        _options = options;
        _shouldDispose = shouldDispose;
        _debouncer = new Debouncer(Time, TimeSpan.FromMilliseconds(options.DebounceMs));
        if (!controller.IsPinOpen(options.Pin))
        {
            controller.OpenPin(options.Pin, options.Mode);
        }
        else
        {
            controller.SetPinMode(options.Pin, options.Mode);
        }

        controller.RegisterCallbackForPinValueChangedEvent(options.Pin, options.Edge, OnEdge);
    }

    public override TriggerKind Kind => TriggerKind.Gpio;

    private void OnEdge(object sender, PinValueChangedEventArgs e)
    {
        if (_debouncer.TryAccept())
        {
            Raise(string.Create(CultureInfo.InvariantCulture, $"pin {e.PinNumber} {e.ChangeType}"));
        }
    }

    private static GpioTriggerOptions Checked(GpioTriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TriggerOptions.ThrowIfInvalid(options.Validate, nameof(GpioTrigger));
        return options;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _controller.UnregisterCallbackForPinValueChangedEvent(_options.Pin, OnEdge);
            if (_controller.IsPinOpen(_options.Pin))
            {
                _controller.ClosePin(_options.Pin);
            }

            if (_shouldDispose)
            {
                _controller.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}

/// <summary>Fires when a HC-SR501 PIR sensor (Iot.Device.Bindings' <see cref="Hcsr501"/>) reports motion, at most once per cooldown.</summary>
public sealed class PirTrigger : Trigger
{
    private readonly Hcsr501 _sensor;
    private readonly Debouncer _cooldown;
    private readonly int _pin;

    public PirTrigger(GpioController controller, PirTriggerOptions options, TimeProvider? timeProvider = null)
        : base(Checked(options).Name, options.CameraId, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _pin = options.Pin;
        _cooldown = new Debouncer(Time, TimeSpan.FromMilliseconds(options.CooldownMs));
        _sensor = new Hcsr501(options.Pin, controller, shouldDispose: false);
        _sensor.Hcsr501ValueChanged += OnChanged;
    }

    public override TriggerKind Kind => TriggerKind.Pir;

    public bool IsMotionDetected => _sensor.IsMotionDetected;

    private void OnChanged(object sender, Hcsr501ValueChangedEventArgs e)
    {
        if (e.PinValue == PinValue.High && _cooldown.TryAccept())
        {
            Raise(string.Create(CultureInfo.InvariantCulture, $"PIR on pin {_pin} detected motion"));
        }
    }

    private static PirTriggerOptions Checked(PirTriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TriggerOptions.ThrowIfInvalid(options.Validate, nameof(PirTrigger));
        return options;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sensor.Hcsr501ValueChanged -= OnChanged;
            _sensor.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// Fires when a question arrives from outside (MQTT request, HTTP, CLI): the API the service wires to its
/// request handlers. Each request gets a correlation id to match the answer to it.
/// </summary>
public sealed class OnDemandTrigger : Trigger
{
    public const int MaxQuestionLength = 4096;

    public OnDemandTrigger(string name = "on-demand", string? cameraId = null, TimeProvider? timeProvider = null)
        : base(name, cameraId, timeProvider)
    {
    }

    public override TriggerKind Kind => TriggerKind.OnDemand;

    /// <summary>Raises <see cref="Trigger.Fired"/> for <paramref name="question"/> and returns the event.</summary>
    /// <exception cref="ArgumentException">The question is empty or longer than <see cref="MaxQuestionLength"/>.</exception>
    public TriggerEvent Ask(string question, string? cameraId = null, string? correlationId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        if (question.Length > MaxQuestionLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"A question may hold at most {MaxQuestionLength} characters; got {question.Length}."), nameof(question));
        }

        return Raise("question received", question.Trim(), cameraId, correlationId ?? Guid.NewGuid().ToString("N"));
    }
}

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
