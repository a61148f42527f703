namespace LlavaUhd.Edge.Core.Diagnostics;

/// <summary>
/// The repository's one definition of a sample's median and percentiles, used by the service's latency stats, the CLI's
/// eval and bench reports and the benchmark probes. A percentile interpolates linearly between the two closest ranks
/// (numpy's default, Excel's <c>PERCENTILE.INC</c>, Hyndman and Fan's type 7): percentile <c>p</c> of <c>n</c> sorted
/// values sits at rank <c>p / 100 · (n − 1)</c>. So the 0th is the smallest value, the 100th the largest, and the median
/// (the 50th) the middle value, or the mean of the two middle ones for an even count. An empty sample gives 0.
/// </summary>
public static class SampleStatistics
{
    /// <summary>The median of <paramref name="values"/> (any order); 0 for none.</summary>
    public static double Median(IEnumerable<double> values) => Percentile(values, 50);

    /// <summary>Percentile <paramref name="percent"/> (0–100) of <paramref name="values"/> (any order; a sorted copy is made); 0 for none.</summary>
    public static double Percentile(IEnumerable<double> values, double percent)
    {
        ArgumentNullException.ThrowIfNull(values);
        double[] sorted = [.. values];
        Array.Sort(sorted);
        return PercentileOfSorted(sorted, percent);
    }

    /// <summary>Percentile <paramref name="percent"/> (0–100) of values already sorted ascending; 0 for none. Allocates nothing.</summary>
    public static double PercentileOfSorted(ReadOnlySpan<double> sorted, double percent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percent, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        if (sorted.IsEmpty)
        {
            return 0;
        }

        double rank = percent / 100 * (sorted.Length - 1);
        int below = (int)Math.Floor(rank);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + ((sorted[above] - sorted[below]) * (rank - below));
    }
}
