using LlavaUhd.Edge.Core.Compression;

namespace LlavaUhd.Edge.Core.Tests;

public sealed class TokenPrunerTests
{
    [Fact]
    public void Entropy_IsOneForFlatAndNearZeroForPeakedTokens()
    {
        Assert.Equal(1.0, TokenPruner.NormalizedEntropy(new float[64]), 6);
        float[] peaked = new float[64];
        peaked[3] = 40f;
        Assert.InRange(TokenPruner.NormalizedEntropy(peaked), 0, 1e-6);
    }

    [Fact]
    public void Select_DropsLowEntropyTokens_KeepsOrder_AndCompacts()
    {
        const int width = 16;
        var rng = new Random(2);
        float[] features = new float[6 * width];
        for (int t = 0; t < 6; t++)
        {
            for (int c = 0; c < width; c++)
            {
                features[(t * width) + c] = t % 2 == 0 ? (float)rng.NextDouble() : (c == 0 ? 50f : 0f);
            }
        }

        bool[] keep = new bool[6];
        double[] scores = new double[6];
        int kept = TokenPruner.Select(features, 6, width, new TokenPruningOptions { EntropyThreshold = 0.5, MinKeepFraction = 0.1 }, keep, scores);

        Assert.Equal(3, kept);
        Assert.Equal([true, false, true, false, true, false], keep);
        float firstOfToken4 = features[4 * width];
        Assert.Equal(3, TokenPruner.Compact(features, 6, width, keep));
        Assert.Equal(firstOfToken4, features[2 * width]);
    }

    [Fact]
    public void Select_NeverGoesBelowTheFloor()
    {
        float[] peaked = new float[8 * 4];
        for (int t = 0; t < 8; t++)
        {
            peaked[t * 4] = 30f + t;
        }

        bool[] keep = new bool[8];
        int kept = TokenPruner.Select(peaked, 8, 4, new TokenPruningOptions { EntropyThreshold = 0.9, MinKeepFraction = 0.25 }, keep, new double[8]);

        Assert.Equal(2, kept);
    }

    [Fact]
    public void Disabled_KeepsEverything()
    {
        bool[] keep = new bool[4];
        Assert.Equal(4, TokenPruner.Select(new float[16], 4, 4, new TokenPruningOptions(), keep, new double[4]));
        Assert.All(keep, Assert.True);
    }
}
