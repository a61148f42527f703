using LlavaUhd.Edge.Core.Decoding;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>The outcome of one generation.</summary>
public sealed record GenerationResult(IReadOnlyList<int> Tokens, StopReason Reason, double PrefillMs, double DecodeMs, int PromptTokens);
