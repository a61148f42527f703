using System.Collections.Immutable;
using System.Globalization;

namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>
/// How the next token is chosen and when generation stops. <see cref="Temperature"/> 0 is greedy (argmax);
/// otherwise logits are divided by the temperature, cut to the <see cref="TopK"/> best and to the smallest set whose
/// probability reaches <see cref="TopP"/>, and sampled with a generator seeded by <see cref="Seed"/>.
/// </summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; }

    /// <summary>Keep only the K most likely tokens (0 = off).</summary>
    public int TopK { get; init; }

    /// <summary>Nucleus sampling: keep the smallest set of tokens whose probability reaches P (1 = off).</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Penalty &gt; 1 makes tokens already generated less likely (CTRL-style; 1 = off).</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Seed of the sampling generator; the same seed, model and prompt give the same answer.</summary>
    public ulong Seed { get; init; } = 0x5EED;

    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Token ids that end the answer (not included in it).</summary>
    public ImmutableArray<int> StopTokenIds { get; init; } = [];

    /// <summary>Token ids that are never produced (e.g. the image-structure tokens of SmolVLM).</summary>
    public ImmutableArray<int> BannedTokenIds { get; init; } = [];

    public bool IsGreedy => Temperature <= 0f;

    /// <summary>Every invalid value, as one message each (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!float.IsFinite(Temperature) || Temperature < 0 || Temperature > 10)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"temperature = {Temperature} is invalid: it must be between 0 (greedy) and 10."));
        }

        if (TopK < 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"top_k = {TopK} is invalid: it must be 0 (off) or positive."));
        }

        if (!float.IsFinite(TopP) || TopP <= 0 || TopP > 1)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"top_p = {TopP} is invalid: it must be in (0, 1]."));
        }

        if (!float.IsFinite(RepetitionPenalty) || RepetitionPenalty < 1 || RepetitionPenalty > 10)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"repetition_penalty = {RepetitionPenalty} is invalid: it must be between 1 (off) and 10."));
        }

        if (MaxNewTokens is < 1 or > 32_768)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"max_new_tokens = {MaxNewTokens} is invalid: it must be between 1 and 32768."));
        }

        return problems;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem.</summary>
    public void Validate()
    {
        IReadOnlyList<string> problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems));
        }
    }
}
