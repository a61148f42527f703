using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>Latency per stage over the last <see cref="Window"/> samples (p50/p99, <see cref="SampleStatistics"/>), and decode throughput.</summary>
internal sealed class LatencyStats
{
    public const int Window = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Ring> _stages = new(StringComparer.Ordinal);
    private double _tokensPerSecond;

    public void Record(string stage, double ms)
    {
        lock (_lock)
        {
            if (!_stages.TryGetValue(stage, out Ring? ring))
            {
                ring = new Ring();
                _stages[stage] = ring;
            }

            ring.Add(ms);
        }
    }

    public void RecordTokensPerSecond(double tokensPerSecond)
    {
        if (tokensPerSecond > 0 && double.IsFinite(tokensPerSecond))
        {
            lock (_lock)
            {
                _tokensPerSecond = _tokensPerSecond == 0 ? tokensPerSecond : (0.8 * _tokensPerSecond) + (0.2 * tokensPerSecond);
            }
        }
    }

    public double TokensPerSecond
    {
        get
        {
            lock (_lock)
            {
                return _tokensPerSecond;
            }
        }
    }

    public Dictionary<string, StageLatency> Snapshot()
    {
        lock (_lock)
        {
            return _stages.ToDictionary(kv => kv.Key, kv => kv.Value.Latency(), StringComparer.Ordinal);
        }
    }

    private sealed class Ring
    {
        private readonly double[] _values = new double[Window];
        private int _next;
        private long _count;

        public void Add(double ms)
        {
            _values[_next] = ms;
            _next = (_next + 1) % Window;
            _count++;
        }

        public StageLatency Latency()
        {
            int n = (int)Math.Min(_count, Window);
            double[] sorted = _values[..n];
            Array.Sort(sorted);
            return new StageLatency(Math.Round(SampleStatistics.PercentileOfSorted(sorted, 50), 3), Math.Round(SampleStatistics.PercentileOfSorted(sorted, 99), 3), _count);
        }
    }
}
