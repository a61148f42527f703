using System.Collections.Concurrent;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Service.Tests.Infrastructure;

/// <summary>
/// The outbound port without a broker (docs/architecture.md): records everything the service publishes through
/// <see cref="IEdgePublisher"/> and raises <see cref="AnswerPublished"/> and <see cref="ErrorPublished"/> as
/// <see cref="EdgeMqttClient"/> does — after recording, on the publishing thread, an error as the
/// <see cref="ErrorReply"/> the client would send. While <see cref="IsConnected"/> is false (a test may take the link away), what the client drops when
/// not connected (stats, token packets, snapshots) is not recorded and the packets and snapshots return false; what it
/// remembers for the next connection (status, setting states, retained messages) is recorded all the same.
/// </summary>
public sealed class RecordingPublisher(MqttTopics topics, TimeProvider? time = null) : IEdgePublisher
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _sequence;
    private bool _connected = true;

    public MqttTopics Topics { get; } = topics;

    /// <summary>Answers with the reply route they were published for (null: a standing question's).</summary>
    public ConcurrentQueue<(AnswerMessage Answer, ReplyRoute? Reply)> Answers { get; } = new();

    /// <summary>Error messages, as the error replies the client would publish on <c>…/errors</c>.</summary>
    public ConcurrentQueue<ErrorReply> Errors { get; } = new();

    public ConcurrentQueue<StatusMessage> Statuses { get; } = new();

    public ConcurrentQueue<StatsMessage> Stats { get; } = new();

    public ConcurrentQueue<SettingState> SettingStates { get; } = new();

    public ConcurrentQueue<(string Camera, byte[] Packet, string ContentType, IReadOnlyList<KeyValuePair<string, string>> Properties)> TokenPackets { get; } = new();

    public ConcurrentQueue<(string Camera, byte[] Jpeg)> Snapshots { get; } = new();

    public ConcurrentQueue<(string Topic, byte[] Payload)> Retained { get; } = new();

    public bool IsConnected
    {
        get => Volatile.Read(ref _connected);
        set => Volatile.Write(ref _connected, value);
    }

    /// <summary>Every error message counts as a refusal, as with the client.</summary>
    public long QuestionsRejected => Errors.Count;

    public event Action<AnswerMessage>? AnswerPublished;

    public event Action<ErrorReply>? ErrorPublished;

    /// <summary>The sequence number of the last record, as the outbox would number them (the reply first, then the answer).</summary>
    public long PublishAnswer(AnswerMessage answer, ReplyRoute? reply = null)
    {
        ArgumentNullException.ThrowIfNull(answer);
        long sequence = Interlocked.Add(ref _sequence, reply is { HasResponseTopic: true } ? 2 : 1);
        Answers.Enqueue((answer, reply));
        AnswerPublished?.Invoke(answer);
        return sequence;
    }

    public void PublishError(string? camera, string topic, string code, string message)
    {
        var reply = new ErrorReply
        {
            Error = code,
            Message = message,
            Camera = MqttTopics.IsValidSegment(camera) ? camera : null,
            Topic = topic,
            Timestamp = _time.GetUtcNow(),
        };
        Errors.Enqueue(reply);
        ErrorPublished?.Invoke(reply);
    }

    public Task PublishStatusAsync(StatusMessage status, CancellationToken cancellationToken = default)
    {
        Statuses.Enqueue(status);
        return Task.CompletedTask;
    }

    public Task PublishStatsAsync(StatsMessage stats, CancellationToken cancellationToken = default)
    {
        if (IsConnected)
        {
            Stats.Enqueue(stats);
        }

        return Task.CompletedTask;
    }

    public Task PublishSettingStateAsync(SettingState state, CancellationToken cancellationToken = default)
    {
        SettingStates.Enqueue(state);
        return Task.CompletedTask;
    }

    public Task<bool> PublishTokensAsync(string camera, byte[] packet, string contentType, IReadOnlyList<KeyValuePair<string, string>> properties, CancellationToken cancellationToken = default)
    {
        if (!IsConnected)
        {
            return Task.FromResult(false);
        }

        TokenPackets.Enqueue((camera, packet, contentType, properties));
        return Task.FromResult(true);
    }

    public Task<bool> PublishSnapshotAsync(string camera, byte[] jpeg, CancellationToken cancellationToken = default)
    {
        if (!IsConnected)
        {
            return Task.FromResult(false);
        }

        Snapshots.Enqueue((camera, jpeg));
        return Task.FromResult(true);
    }

    public Task PublishRetainedAsync(string topic, byte[] payload, CancellationToken cancellationToken = default)
    {
        Retained.Enqueue((topic, payload));
        return Task.CompletedTask;
    }
}
