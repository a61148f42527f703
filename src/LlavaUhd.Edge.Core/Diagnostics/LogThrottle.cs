namespace LlavaUhd.Edge.Core.Diagnostics;

/// <summary>
/// Lets one log line per key through per window and counts the rest, so a flood of bad messages writes a line per
/// window ("… and 5 999 more like it") instead of a line per message. Thread-safe; time from a <see cref="TimeProvider"/>.
/// </summary>
public sealed class LogThrottle
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _window;
    private readonly Dictionary<string, (long Start, int Suppressed)> _keys = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public LogThrottle(TimeSpan window, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _window = window;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// True when a line for <paramref name="key"/> may be written now; <paramref name="suppressed"/> is how many were
    /// held back since the last one written (say so in the line). False: count it and write nothing.
    /// </summary>
    public bool Allow(string key, out int suppressed)
    {
        ArgumentNullException.ThrowIfNull(key);
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_keys.TryGetValue(key, out (long Start, int Suppressed) state) && _time.GetElapsedTime(state.Start, now) < _window)
            {
                _keys[key] = (state.Start, state.Suppressed + 1);
                suppressed = 0;
                return false;
            }

            suppressed = state.Suppressed;
            if (_keys.Count > 1024)
            {
                _keys.Clear();   // keys come from a small set (error codes); never let them grow without bound
            }

            _keys[key] = (now, 0);
            return true;
        }
    }
}
