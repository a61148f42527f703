namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>
/// Why generation ended. Logs and the CLI's JSON print it by its <see cref="StopReasons.ToName"/>:
/// <c>stop_token</c>, <c>max_tokens</c>, <c>cancelled</c>.
/// </summary>
public enum StopReason
{
    /// <summary>The model produced a stop token (or a typed answer's grammar completed).</summary>
    StopToken,

    /// <summary>The token budget ran out first.</summary>
    MaxTokens,

    /// <summary>The caller's cancellation token fired.</summary>
    Cancelled,
}
