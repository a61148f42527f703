namespace LlavaUhd.Edge.Core.Compression;

/// <summary>Scores and compacts visual tokens in place; allocation-free (the caller provides the scratch).</summary>
public static class TokenPruner
{
    /// <summary>Normalised entropy (0..1) of the softmax of <paramref name="token"/>'s channels.</summary>
    public static double NormalizedEntropy(ReadOnlySpan<float> token)
    {
        if (token.Length < 2)
        {
            return 1;
        }

        float max = float.NegativeInfinity;
        foreach (float v in token)
        {
            max = Math.Max(max, v);
        }

        double sum = 0, weighted = 0;
        foreach (float v in token)
        {
            double z = v - max;
            double e = Math.Exp(z);
            sum += e;
            weighted += e * z;
        }

        // H = log(sum) - Σ e·z / sum  for p = e / sum, z = x - max.
        double entropy = Math.Log(sum) - (weighted / sum);
        return Math.Clamp(entropy / Math.Log(token.Length), 0, 1);
    }

    /// <summary>
    /// Decides which of a view's <paramref name="tokenCount"/> tokens (rows of <paramref name="width"/> floats in
    /// <paramref name="features"/>) to keep, writes the decision to <paramref name="keep"/> and returns how many are kept.
    /// <paramref name="scores"/> is scratch of at least <paramref name="tokenCount"/> doubles.
    /// </summary>
    public static int Select(ReadOnlySpan<float> features, int tokenCount, int width, TokenPruningOptions options, Span<bool> keep, Span<double> scores)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (features.Length < tokenCount * width || keep.Length < tokenCount || scores.Length < tokenCount)
        {
            throw new ArgumentException("Buffers are smaller than tokenCount × width.");
        }

        if (!options.Enabled)
        {
            keep[..tokenCount].Fill(true);
            return tokenCount;
        }

        int kept = 0;
        for (int t = 0; t < tokenCount; t++)
        {
            scores[t] = NormalizedEntropy(features.Slice(t * width, width));
            keep[t] = scores[t] >= options.EntropyThreshold;
            kept += keep[t] ? 1 : 0;
        }

        int minimum = Math.Max(1, (int)Math.Ceiling(options.MinKeepFraction * tokenCount));
        while (kept < minimum)
        {
            // Re-admit the best-scoring dropped token until the floor is met (rare: only near-empty views).
            int best = -1;
            for (int t = 0; t < tokenCount; t++)
            {
                if (!keep[t] && (best < 0 || scores[t] > scores[best]))
                {
                    best = t;
                }
            }

            keep[best] = true;
            kept++;
        }

        return kept;
    }

    /// <summary>Moves the kept rows to the front of <paramref name="features"/>, in order; returns the kept count.</summary>
    public static int Compact(Span<float> features, int tokenCount, int width, ReadOnlySpan<bool> keep)
    {
        int write = 0;
        for (int t = 0; t < tokenCount; t++)
        {
            if (!keep[t])
            {
                continue;
            }

            if (write != t)
            {
                features.Slice(t * width, width).CopyTo(features.Slice(write * width, width));
            }

            write++;
        }

        return write;
    }
}
