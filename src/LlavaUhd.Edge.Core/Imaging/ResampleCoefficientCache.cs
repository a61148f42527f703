using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>A thread-safe cache of <see cref="ResampleCoefficients"/> keyed by (in size, out size, filter); a hit allocates nothing.</summary>
public sealed class ResampleCoefficientCache
{
    private readonly Dictionary<(int In, int Out, ResampleFilter Filter), ResampleCoefficients> _entries = [];
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public ResampleCoefficients Get(int inSize, int outSize, ResampleFilter filter)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue((inSize, outSize, filter), out ResampleCoefficients? hit))
            {
                return hit;
            }
        }

        ResampleCoefficients made = ResampleCoefficients.Compute(inSize, outSize, filter);
        lock (_lock)
        {
            _entries.TryAdd((inSize, outSize, filter), made);
            return _entries[(inSize, outSize, filter)];
        }
    }
}
