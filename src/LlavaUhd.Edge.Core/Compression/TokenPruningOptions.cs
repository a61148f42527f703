using System.Globalization;

namespace LlavaUhd.Edge.Core.Compression;

/// <summary>
/// Entropy-based visual token pruning: a token whose feature vector, read as a distribution (softmax over its
/// channels), has low normalised entropy carries little information (flat background, padding) and can be dropped
/// before the language model sees it. Off by default.
/// </summary>
public sealed record TokenPruningOptions
{
    /// <summary>Keep tokens whose normalised entropy (0..1) is at least this; 0 keeps everything.</summary>
    public double EntropyThreshold { get; init; }

    /// <summary>Never keep fewer than this fraction of a view's tokens (the highest-entropy ones).</summary>
    public double MinKeepFraction { get; init; } = 0.25;

    public bool Enabled => EntropyThreshold > 0;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!double.IsFinite(EntropyThreshold) || EntropyThreshold is < 0 or > 1)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"entropy_threshold = {EntropyThreshold} is invalid: it must be in [0, 1]."));
        }

        if (!double.IsFinite(MinKeepFraction) || MinKeepFraction is <= 0 or > 1)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"min_keep_fraction = {MinKeepFraction} is invalid: it must be in (0, 1]."));
        }

        return problems;
    }
}
