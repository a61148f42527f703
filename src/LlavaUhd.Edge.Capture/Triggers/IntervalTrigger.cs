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
