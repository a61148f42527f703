using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Messaging;

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
