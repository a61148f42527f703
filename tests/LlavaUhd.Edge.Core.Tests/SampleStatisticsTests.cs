using LlavaUhd.Edge.Core.Diagnostics;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>The one median/percentile definition: linear interpolation between closest ranks (numpy's default).</summary>
public sealed class SampleStatisticsTests
{
    [Fact]
    public void Median_IsTheMiddleValue_OrTheMeanOfTheTwoMiddleOnes()
    {
        Assert.Equal(3, SampleStatistics.Median([5, 1, 3]));
        Assert.Equal(2.5, SampleStatistics.Median([4, 1, 3, 2]));
        Assert.Equal(7, SampleStatistics.Median([7]));
    }

    [Fact]
    public void Percentile_InterpolatesBetweenClosestRanks_LikeNumpy()
    {
        double[] values = [1, 2, 3, 4, 5];

        // numpy.percentile([1, 2, 3, 4, 5], [0, 25, 90, 99, 100]) == [1, 2, 4.6, 4.96, 5]
        Assert.Equal(1, SampleStatistics.Percentile(values, 0));
        Assert.Equal(2, SampleStatistics.Percentile(values, 25));
        Assert.Equal(4.6, SampleStatistics.Percentile(values, 90), 12);
        Assert.Equal(4.96, SampleStatistics.Percentile(values, 99), 12);
        Assert.Equal(5, SampleStatistics.Percentile(values, 100));
        Assert.Equal(SampleStatistics.Percentile(values, 90), SampleStatistics.PercentileOfSorted(values, 90));
    }

    [Fact]
    public void EmptySample_GivesZero_AndAPercentOutside0To100_Throws()
    {
        Assert.Equal(0, SampleStatistics.Median([]));
        Assert.Equal(0, SampleStatistics.PercentileOfSorted([], 99));
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleStatistics.Percentile([1.0], 101));
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleStatistics.Percentile([1.0], -1));
    }
}
