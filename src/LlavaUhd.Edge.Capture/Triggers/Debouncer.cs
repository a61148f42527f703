namespace LlavaUhd.Edge.Capture.Triggers;

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
