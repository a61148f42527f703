namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// Where the reply to a request goes: the MQTT 5 Response Topic with its Correlation Data, or for MQTT 3.1.1
/// askers the payload's <c>reply_to</c> with its <c>correlation_id</c>. Empty when the asker wants no reply.
/// </summary>
public sealed record ReplyRoute
{
    public static readonly ReplyRoute None = new();

    public string? ResponseTopic { get; init; }

    /// <summary>MQTT 5 Correlation Data, echoed byte for byte.</summary>
    public byte[]? CorrelationData { get; init; }

    /// <summary>The payload's <c>correlation_id</c>, echoed in the reply JSON.</summary>
    public string? CorrelationId { get; init; }

    public bool HasResponseTopic => !string.IsNullOrEmpty(ResponseTopic);
}
