namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>What kind of trigger fired.</summary>
public enum TriggerKind
{
    Interval,
    Motion,
    Gpio,
    Pir,
    OnDemand,
}

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

/// <summary>
/// Base of every trigger: raises <see cref="Fired"/> when the model should be asked. Handlers run on the trigger's
/// thread (a timer, a GPIO callback, the caller of <c>Observe</c>/<c>Ask</c>); they must be quick (enqueue work).
/// </summary>
public abstract class Trigger : IDisposable
{
    protected Trigger(string name, string? cameraId, TimeProvider? timeProvider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        CameraId = cameraId;
        Time = timeProvider ?? TimeProvider.System;
    }

    public string Name { get; }

    public string? CameraId { get; }

    public abstract TriggerKind Kind { get; }

    /// <summary>How many times the trigger has fired.</summary>
    public long FiredCount => Interlocked.Read(ref _firedCount);

    private long _firedCount;

    protected TimeProvider Time { get; }

    public event EventHandler<TriggerEvent>? Fired;

    protected TriggerEvent Raise(string? detail = null, string? question = null, string? cameraId = null, string? correlationId = null, LlavaUhd.Edge.Core.Slicing.PixelRect? roi = null)
    {
        var e = new TriggerEvent(Name, Kind, Time.GetUtcNow(), cameraId ?? CameraId, question, detail, correlationId, roi);
        Interlocked.Increment(ref _firedCount);
        Fired?.Invoke(this, e);
        return e;
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>Accepts an event only when at least <c>window</c> has passed since the last accepted one (monotonic clock).</summary>
internal sealed class Debouncer
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _window;
    private readonly Lock _lock = new();
    private long _last;
    private bool _any;

    public Debouncer(TimeProvider time, TimeSpan window)
    {
        _time = time;
        _window = window;
    }

    public bool TryAccept()
    {
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            if (_any && _time.GetElapsedTime(_last, now) < _window)
            {
                return false;
            }

            _any = true;
            _last = now;
            return true;
        }
    }
}
