using LlavaUhd.Edge.Core.Decoding;

namespace LlavaUhd.Edge.Core.Pipeline;

/// <summary>An answer with its costs.</summary>
public sealed record VlmAnswer(string Text, TokenCounts Tokens, StageTimings Timings, string Provider, string Model)
{
    /// <summary>Why generation stopped; printed as <c>stop_token</c>, <c>max_tokens</c> or <c>cancelled</c> (<see cref="StopReasons.ToName"/>).</summary>
    public StopReason StopReason { get; init; } = StopReason.StopToken;

    /// <summary>The generated token ids (without the stop token).</summary>
    public IReadOnlyList<int> TokenIds { get; init; } = [];

    /// <summary>The typed value of a typed answer (<see cref="GenerationRequest.AnswerType"/>); null for free text.</summary>
    public System.Text.Json.JsonElement? Value { get; init; }
}
