using LlavaUhd.Edge.Core.Decoding;

namespace LlavaUhd.Edge.Core.Pipeline;

/// <summary>What to generate: the question and how.</summary>
public sealed record GenerationRequest(string Question)
{
    /// <summary>Null: the package's defaults (greedy, its stop tokens, its max new tokens).</summary>
    public SamplingOptions? Sampling { get; init; }

    /// <summary>Overrides <see cref="SamplingOptions.MaxNewTokens"/>.</summary>
    public int? MaxNewTokens { get; init; }

    /// <summary>
    /// Null: free text. Otherwise the decoder may only produce text of this type (docs/typed-answers.md) and the answer
    /// carries its <see cref="VlmAnswer.Value"/>; <see cref="MaxNewTokens"/> is raised to what the type needs.
    /// </summary>
    public AnswerType? AnswerType { get; init; }
}
