namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>
/// Picks the next token from a row of logits. Allocates its scratch space once (vocabulary-sized, on the large object
/// heap: keep one sampler per model and <see cref="Reset(SamplingOptions)"/> it per request) and nothing per token.
/// Not thread-safe: one generation at a time.
/// </summary>
public sealed class TokenSampler
{
    private SamplingOptions _options;
    private readonly XorShiftRandom _random;
    private readonly float[] _probs;
    private readonly int[] _ids;

    public TokenSampler(int vocabularySize, SamplingOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _random = new XorShiftRandom(options.Seed);
        _probs = new float[vocabularySize];
        _ids = new int[vocabularySize];
    }

    public int VocabularySize => _probs.Length;

    /// <summary>Restarts the generator (a new request with the same options gives the same samples).</summary>
    public void Reset() => _random.Reseed(_options.Seed);

    /// <summary>Takes <paramref name="options"/> for the next generation and restarts the generator from its seed.</summary>
    public void Reset(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _random.Reseed(options.Seed);
    }

    /// <summary>
    /// The next token. <paramref name="logits"/> is modified in place (penalties, bans, temperature).
    /// <paramref name="previous"/> are the tokens generated so far (for the repetition penalty).
    /// </summary>
    public int Next(Span<float> logits, ReadOnlySpan<int> previous = default)
    {
        if (logits.Length != _probs.Length)
        {
            throw new ArgumentException($"Expected {_probs.Length} logits, got {logits.Length}.", nameof(logits));
        }

        ApplyPenaltyAndBans(logits, previous);
        if (_options.IsGreedy)
        {
            return VectorMath.IndexOfMax(logits);
        }

        VectorMath.Scale(logits, 1f / _options.Temperature);
        Span<float> probs = _probs;
        VectorMath.SoftMax(logits, probs);

        // Candidates: the top-k, and for nucleus sampling only tokens with p >= (1 - top_p) / V, which provably
        // contains the whole nucleus (the tokens below it carry less than 1 - top_p together), so the sort is small.
        float floor = _options.TopP < 1f ? (1f - _options.TopP) / probs.Length : 0f;
        int n = 0;
        for (int i = 0; i < probs.Length; i++)
        {
            if (probs[i] > 0f && probs[i] >= floor)
            {
                _ids[n] = i;
                _probs[n] = probs[i];
                n++;
            }
        }

        Span<float> candidates = _probs.AsSpan(0, n);
        Span<int> ids = _ids.AsSpan(0, n);
        candidates.Sort(ids, Descending.Instance);
        if (_options.TopK > 0 && n > _options.TopK)
        {
            n = _options.TopK;
        }

        double total = 0;
        if (_options.TopP < 1f)
        {
            double cumulative = 0;
            int keep = 0;
            while (keep < n)
            {
                cumulative += candidates[keep++];
                if (cumulative >= _options.TopP)
                {
                    break;
                }
            }

            n = keep;
        }

        for (int i = 0; i < n; i++)
        {
            total += candidates[i];
        }

        double r = _random.NextDouble() * total;
        for (int i = 0; i < n; i++)
        {
            r -= candidates[i];
            if (r < 0)
            {
                return ids[i];
            }
        }

        return ids[n - 1];
    }

    private void ApplyPenaltyAndBans(Span<float> logits, ReadOnlySpan<int> previous)
    {
        if (_options.RepetitionPenalty != 1f)
        {
            foreach (int id in previous)
            {
                if ((uint)id < (uint)logits.Length)
                {
                    float l = logits[id];
                    logits[id] = l > 0 ? l / _options.RepetitionPenalty : l * _options.RepetitionPenalty;
                }
            }
        }

        if (!_options.BannedTokenIds.IsEmpty)
        {
            foreach (int id in _options.BannedTokenIds)
            {
                if ((uint)id < (uint)logits.Length)
                {
                    logits[id] = float.NegativeInfinity;
                }
            }
        }
    }

    /// <summary>A class, not a struct: the span sort takes an <see cref="IComparer{T}"/> and would box a struct per call.</summary>
    private sealed class Descending : IComparer<float>
    {
        public static readonly Descending Instance = new();

        public int Compare(float x, float y) => y.CompareTo(x);
    }
}
