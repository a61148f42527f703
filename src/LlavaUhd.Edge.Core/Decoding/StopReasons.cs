namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>The printed names of <see cref="StopReason"/>, as logs and the CLI's JSON carry them.</summary>
public static class StopReasons
{
    /// <summary><c>stop_token</c>, <c>max_tokens</c> or <c>cancelled</c>.</summary>
    public static string ToName(this StopReason reason) => reason switch
    {
        StopReason.StopToken => "stop_token",
        StopReason.MaxTokens => "max_tokens",
        StopReason.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
