using LlavaUhd.Edge.Messaging.Contracts;

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

/// <summary>A validated question from an <c>ask</c> topic, ready for the pipeline.</summary>
public sealed record Question
{
    /// <summary>The asker's <c>id</c>, or one assigned on arrival.</summary>
    public required string Id { get; init; }

    public required string Camera { get; init; }

    public required string Text { get; init; }

    /// <summary>Region of the frame to answer about; null means the camera's configured ROI or the whole frame.</summary>
    public RoiRect? Roi { get; init; }

    public int? MaxTokens { get; init; }

    /// <summary>The asker's <c>answer_type</c> and its companions; null: a free-text answer.</summary>
    public LlavaUhd.Edge.Core.Decoding.AnswerType? AnswerType { get; init; }

    /// <summary>The sequence number of an earlier answered frame (<c>frame_sequence</c> of an answer); null: the latest frame.</summary>
    public long? Frame { get; init; }

    public ReplyRoute Reply { get; init; } = ReplyRoute.None;

    /// <summary>True when it came through the fleet's shared subscription.</summary>
    public bool Shared { get; init; }

    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The broker's delivery, acknowledged once the question is answered or refused (null: already acknowledged).</summary>
    internal MQTTnet.MqttApplicationMessageReceivedEventArgs? Received { get; init; }
}

/// <summary>The runtime-changeable settings of a camera (<c>…/&lt;camera&gt;/&lt;setting&gt;/set</c>).</summary>
public enum CameraSetting
{
    /// <summary><c>enable</c>: true/false (also ON/OFF).</summary>
    Enable,

    /// <summary><c>question</c>: the standing question asked on every trigger.</summary>
    Question,

    /// <summary><c>interval</c>: seconds between triggered answers (number &gt; 0).</summary>
    Interval,
}

/// <summary>A validated setting change.</summary>
public sealed record SettingChange
{
    public required string Camera { get; init; }
    public required CameraSetting Setting { get; init; }
    public bool? Enabled { get; init; }
    public string? Question { get; init; }

    /// <summary>True when a <c>question</c> payload was an object: <see cref="AnswerType"/> replaces the question's type (null: free text).</summary>
    public bool SetsAnswerType { get; init; }

    public LlavaUhd.Edge.Core.Decoding.AnswerType? AnswerType { get; init; }

    public double? IntervalS { get; init; }
    public ReplyRoute Reply { get; init; } = ReplyRoute.None;

    /// <summary>The topic level of <see cref="Setting"/> (<c>enable</c>, <c>question</c>, <c>interval</c>).</summary>
    public string SettingName => Setting.ToString().ToLowerInvariant();
}

/// <summary>A rejected request: one of <see cref="ErrorCodes"/> and a human-readable reason.</summary>
public sealed record RequestError(string Code, string Message);
