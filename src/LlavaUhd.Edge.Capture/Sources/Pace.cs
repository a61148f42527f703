namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>Sleeps so that calls come at most <c>fps</c> times a second.</summary>
internal static class Pace
{
    public static void Wait(double fps, ref long lastTicks)
    {
        if (fps <= 0)
        {
            return;
        }

        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (lastTicks != 0)
        {
            TimeSpan due = TimeSpan.FromSeconds(1 / fps) - System.Diagnostics.Stopwatch.GetElapsedTime(lastTicks, now);
            if (due > TimeSpan.Zero)
            {
                Thread.Sleep(due);
            }
        }

        lastTicks = System.Diagnostics.Stopwatch.GetTimestamp();
    }
}
