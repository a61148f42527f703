using LlavaUhd.Edge.Core.Decoding;

namespace LlavaUhd.Edge.Core.Tests;

public sealed class TokenSamplerTests
{
    private static float[] Logits(int vocab, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, vocab).Select(_ => (float)((rng.NextDouble() * 8) - 4)).ToArray();
    }

    [Fact]
    public void Greedy_PicksTheArgmax_FirstOnTies()
    {
        var sampler = new TokenSampler(8, new SamplingOptions());

        Assert.Equal(5, sampler.Next(new float[] { 0, 1, 2, 3, 1, 7, 7, -1 }));
        float[] big = Logits(49_280, 1);
        int expected = Array.IndexOf(big, big.Max());
        Assert.Equal(expected, new TokenSampler(big.Length, new SamplingOptions()).Next(big.ToArray()));
    }

    [Fact]
    public void Sampling_IsDeterministicForASeed_AndDiffersAcrossSeeds()
    {
        var options = new SamplingOptions { Temperature = 1.0f, TopK = 50, TopP = 0.9f, Seed = 42 };
        int[] Run(SamplingOptions o)
        {
            var s = new TokenSampler(1000, o);
            return Enumerable.Range(0, 50).Select(i => s.Next(Logits(1000, i))).ToArray();
        }

        Assert.Equal(Run(options), Run(options));
        Assert.NotEqual(Run(options), Run(options with { Seed = 43 }));
    }

    [Fact]
    public void TopK_OnlyEverReturnsTheKBest()
    {
        float[] logits = Logits(500, 3);
        int[] best = logits.Select((l, i) => (l, i)).OrderByDescending(p => p.l).Take(5).Select(p => p.i).ToArray();
        var sampler = new TokenSampler(500, new SamplingOptions { Temperature = 5f, TopK = 5, Seed = 1 });

        var seen = new HashSet<int>();
        for (int n = 0; n < 2000; n++)
        {
            seen.Add(sampler.Next(logits.ToArray()));
        }

        Assert.Subset(best.ToHashSet(), seen);
        Assert.Equal(5, seen.Count);
    }

    [Fact]
    public void TopP_KeepsTheSmallestNucleus()
    {
        // Probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.75 keeps exactly the first two.
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.15f), MathF.Log(0.05f)];
        var sampler = new TokenSampler(4, new SamplingOptions { Temperature = 1f, TopP = 0.75f, Seed = 9 });

        int[] counts = new int[4];
        for (int n = 0; n < 5000; n++)
        {
            counts[sampler.Next(logits.ToArray())]++;
        }

        Assert.Equal(0, counts[2] + counts[3]);
        Assert.InRange(counts[0] / 5000.0, 0.57, 0.68); // 0.5 / 0.8 = 0.625
    }

    [Fact]
    public void SamplingFrequencies_FollowTheSoftmax()
    {
        float[] logits = [0f, MathF.Log(3f)]; // p = 0.25, 0.75
        var sampler = new TokenSampler(2, new SamplingOptions { Temperature = 1f, Seed = 11 });

        int ones = Enumerable.Range(0, 20_000).Count(_ => sampler.Next(logits.ToArray()) == 1);

        Assert.InRange(ones / 20_000.0, 0.74, 0.76);
    }

    [Fact]
    public void BannedTokens_AreNeverChosen_AndRepetitionIsPenalised()
    {
        var banned = new TokenSampler(4, new SamplingOptions { BannedTokenIds = [2] });
        Assert.Equal(1, banned.Next(new float[] { 0, 5, 9, 1 }));

        var penalised = new TokenSampler(3, new SamplingOptions { RepetitionPenalty = 2f });
        Assert.Equal(1, penalised.Next(new float[] { 4, 3, 0 }, previous: [0]));
    }

    [Fact]
    public void NextToken_DoesNotAllocate()
    {
        float[] logits = Logits(49_280, 8);
        float[] work = new float[logits.Length];
        var sampler = new TokenSampler(logits.Length, new SamplingOptions { Temperature = 0.7f, TopK = 40, TopP = 0.95f });
        logits.CopyTo(work, 0);
        sampler.Next(work);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            logits.CopyTo(work, 0);
            sampler.Next(work);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Reset_WithOtherOptions_SamplesExactlyAsANewSamplerWithThem()
    {
        float[] logits = Logits(1000, 3);
        var first = new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1f, Seed = 11 };
        var second = new SamplingOptions { Temperature = 0.8f, TopK = 20, TopP = 0.9f, Seed = 42, BannedTokenIds = [Array.IndexOf(logits, logits.Max())] };
        var reused = new TokenSampler(logits.Length, first);
        int[] Draw(TokenSampler sampler) => [.. Enumerable.Range(0, 50).Select(_ => sampler.Next((float[])logits.Clone()))];
        int[] withFirst = Draw(reused);

        reused.Reset(second);

        Assert.Equal(Draw(new TokenSampler(logits.Length, second)), Draw(reused));
        Assert.NotEqual(withFirst, Draw(new TokenSampler(logits.Length, second)));
        Assert.Throws<ArgumentException>(() => reused.Reset(new SamplingOptions { Temperature = -1 }));
    }

    [Fact]
    public void InvalidOptions_ListEveryProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TokenSampler(10, new SamplingOptions { Temperature = -1, TopP = 0, MaxNewTokens = 0 }));

        Assert.Contains("temperature = -1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("top_p = 0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("max_new_tokens = 0", ex.Message, StringComparison.Ordinal);
    }
}
