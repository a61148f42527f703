using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// The service's outbound port (docs/architecture.md): everything the pipeline sends to the plant — answers through the
/// persistent outbox, error messages, the retained status and setting states, stats, token packets, snapshots — and
/// the events the integrations follow. <see cref="EdgeMqttClient"/> implements it over MQTT; the service's work
/// classes depend on this interface only, so they can be tested without a broker where the broker is not the subject.
/// </summary>
public interface IEdgePublisher
{
    /// <summary>The device's topics (<c>&lt;prefix&gt;/&lt;device&gt;/…</c>, docs/mqtt.md).</summary>
    MqttTopics Topics { get; }

    /// <summary>True while the connection to the broker is up.</summary>
    bool IsConnected { get; }

    /// <summary>Requests refused at the boundary so far (malformed, unknown camera, busy, …).</summary>
    long QuestionsRejected { get; }

    /// <summary>Raised after an answer was stored for publishing; handlers must be quick and must not throw.</summary>
    event Action<AnswerMessage>? AnswerPublished;

    /// <summary>Raised after an error reply or error message was queued; handlers must be quick and must not throw.</summary>
    event Action<ErrorReply>? ErrorPublished;

    /// <summary>Stores the answer in the outbox (the reply to <paramref name="reply"/> first, then <c>…/&lt;camera&gt;/answer</c>); the last record's sequence number.</summary>
    /// <exception cref="Errors.OutboxFullException">The outbox is full and its policy rejects.</exception>
    long PublishAnswer(AnswerMessage answer, ReplyRoute? reply = null);

    /// <summary>An error message on <c>…/errors</c> about <paramref name="topic"/> (one of <see cref="ErrorCodes"/>).</summary>
    void PublishError(string? camera, string topic, string code, string message);

    Task PublishStatusAsync(StatusMessage status, CancellationToken cancellationToken = default);

    Task PublishStatsAsync(StatsMessage stats, CancellationToken cancellationToken = default);

    Task PublishSettingStateAsync(SettingState state, CancellationToken cancellationToken = default);

    /// <summary>A token packet on <c>…/&lt;camera&gt;/tokens</c>; false when it could not be sent.</summary>
    Task<bool> PublishTokensAsync(string camera, byte[] packet, string contentType, IReadOnlyList<KeyValuePair<string, string>> properties, CancellationToken cancellationToken = default);

    /// <summary>A JPEG on <c>…/&lt;camera&gt;/snapshot</c> (retained); false when it could not be sent.</summary>
    Task<bool> PublishSnapshotAsync(string camera, byte[] jpeg, CancellationToken cancellationToken = default);

    /// <summary>A retained message, published again after every reconnect.</summary>
    Task PublishRetainedAsync(string topic, byte[] payload, CancellationToken cancellationToken = default);
}
