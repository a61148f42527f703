namespace LlavaUhd.Edge.Capture.Triggers;

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
