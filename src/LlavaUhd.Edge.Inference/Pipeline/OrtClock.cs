using System.Diagnostics;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>Time spent inside ONNX Runtime runs, accumulated (to report the share of wall time spent outside them).</summary>
public sealed class OrtClock
{
    private long _ticks;

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks));

    /// <summary>Marks the start of a run; pass the value to <see cref="Stop"/>.</summary>
    public static long Start() => Stopwatch.GetTimestamp();

    public void Stop(long start) => Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
}
