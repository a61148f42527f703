using System.Collections.Concurrent;

namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>
/// Plans are pure functions of (size, options), and a camera's region sizes repeat frame after frame: this cache
/// makes planning free and allocation-free in steady state. Thread-safe; bounded (cleared when full, since the
/// working set of sizes per deployment is small).
/// </summary>
public sealed class SlicePlanCache
{
    private readonly ConcurrentDictionary<(PixelSize Size, SlicingOptions Options), SlicePlan> _plans = new();
    private readonly int _capacity;

    public SlicePlanCache(int capacity = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    public int Count => _plans.Count;

    /// <summary>The plan for <paramref name="size"/> under <paramref name="options"/>, computed on first use.</summary>
    public SlicePlan Get(PixelSize size, SlicingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_plans.TryGetValue((size, options), out SlicePlan? plan))
        {
            return plan;
        }

        plan = SlicePlanner.Plan(size, options);
        if (_plans.Count >= _capacity)
        {
            _plans.Clear();
        }

        return _plans.GetOrAdd((size, options), plan);
    }
}
