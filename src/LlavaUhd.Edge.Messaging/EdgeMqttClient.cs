using LlavaUhd.Edge.Core.Diagnostics;
using System.Text.Json;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Errors;
using LlavaUhd.Edge.Messaging.Options;
using LlavaUhd.Edge.Messaging.Outbox;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// The device's MQTT session: connects with a Last Will (<c>available</c> = <c>offline</c>), keeps the connection
/// from a monitor loop with exponential back-off (re-subscribing and re-announcing after every reconnect), takes
/// questions and settings, hands questions to an <see cref="IQuestionHandler"/> through a bounded queue (full: an
/// immediate <c>busy</c> reply), and publishes answers through the <see cref="AnswerOutbox"/> at QoS 1, removing each
/// only after its PUBACK.
/// </summary>
/// <remarks>
/// <para>A façade over one MQTTnet client and the pieces it composes (src/LlavaUhd.Edge.Messaging/README.md): the
/// connection (<see cref="ConnectionMonitor"/>), the inbound side (<see cref="InboundRouter"/> →
/// <see cref="QuestionWorkers"/>, <see cref="SettingsWorker"/>), and the outbound paths (<see cref="OutboxPump"/> for
/// answers, <see cref="DirectPublisher"/> for error replies and setting states, <see cref="ErrorReplies"/>,
/// <see cref="RetainedMessages"/>, <see cref="BinaryPublisher"/> for snapshots and token packets).</para>
/// <para><see cref="StopAsync"/> is the clean shutdown (publishes <c>offline</c>, then DISCONNECT).
/// <see cref="DisposeAsync"/> without it drops the connection without DISCONNECT, so the broker publishes the will.
/// The outbox is owned by the caller and not disposed here.</para>
/// </remarks>
public sealed class EdgeMqttClient : IEdgePublisher, IAsyncDisposable
{
    private readonly AnswerOutbox _outbox;
    private IQuestionHandler? _handler;
    private ISettingsHandler? _settings;
    private readonly IMqttClient _client;
    private readonly bool _v5;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly ConnectionMonitor _connection;
    private readonly InboundRouter _inbound;
    private readonly QuestionWorkers _questions;
    private readonly SettingsWorker _settingChanges;
    private readonly OutboxPump _pump;
    private readonly DirectPublisher _direct;
    private readonly BinaryPublisher _binary;
    private readonly ErrorReplies _errors;
    private readonly RetainedMessages _retained;
    private bool _started;
    private bool _stopped;

    public EdgeMqttClient(
        MqttOptions options,
        IEnumerable<string> cameras,
        AnswerOutbox outbox,
        IQuestionHandler? handler,
        ISettingsHandler? settings = null,
        ILogger<EdgeMqttClient>? logger = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> problems = MqttOptionsValidator.Check(options);
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid MQTT options: " + string.Join(" ", problems), nameof(options));
        }

        _outbox = outbox ?? throw new ArgumentNullException(nameof(outbox));
        _handler = handler;
        _settings = settings;
        ILogger log = (ILogger?)logger ?? NullLogger.Instance;
        time ??= TimeProvider.System;
        Topics = new MqttTopics(options);
        _v5 = options.ProtocolVersion == 5;
        var rejectLog = new LogThrottle(TimeSpan.FromSeconds(10), time);
        _client = new MqttClientFactory().CreateMqttClient();
        _retained = new RetainedMessages(Topics.Status);
        _direct = new DirectPublisher(_client, WaitConnectedAsync, log);
        _errors = new ErrorReplies(Topics, _v5, _direct, rejectLog, time, log);
        _questions = new QuestionWorkers(options, Topics, PublishAnswer, _errors, rejectLog, time, log);
        _settingChanges = new SettingsWorker(Topics, _retained, _direct, _errors, time, log);
        _inbound = new InboundRouter(Topics, options, new QuestionParser(cameras, options.MaxPayloadBytes, time), _questions, _settingChanges, _errors, log);
        try
        {
            // builds the connection options: bad TLS files throw here, and the client made above must not leak
            _connection = new ConnectionMonitor(_client, options, Topics.Available, () => _inbound.Filters, RepublishRetainedAsync, time, log, _stopping.Token);
        }
        catch
        {
            _client.Dispose();
            _retained.Dispose();
            _stopping.Dispose();
            throw;
        }

        _binary = new BinaryPublisher(_client, _v5, log);
        _pump = new OutboxPump(_outbox, _client, _v5, WaitConnectedAsync, TimeSpan.FromMilliseconds(options.ReconnectMinDelayMs), time, log);
        _client.ApplicationMessageReceivedAsync += _inbound.OnMessageReceivedAsync;
        _client.DisconnectedAsync += _connection.OnDisconnectedAsync;
    }

    public MqttTopics Topics { get; }

    public bool IsConnected => _client.IsConnected;

    /// <summary>Questions answered (an answer went to the outbox).</summary>
    public long QuestionsAnswered => _questions.Answered;

    /// <summary>Requests refused with an error reply (busy included).</summary>
    public long QuestionsRejected => _errors.Rejected;

    /// <summary>Questions refused because the queue was full.</summary>
    public long QuestionsBusy => _questions.Busy;

    /// <summary>Questions waiting for or inside the handler.</summary>
    public int QueueDepth => _questions.QueueDepth;

    /// <summary>Successful CONNECTs so far (1 after the first, +1 per reconnect).</summary>
    public long ConnectCount => _connection.ConnectCount;

    /// <summary>
    /// Attaches the inbound side when it depends on this client's outbound port (the decoder role's token store
    /// publishes its refusals through <see cref="IEdgePublisher"/>): call once, before <see cref="StartAsync"/>.
    /// </summary>
    public void Handle(IQuestionHandler handler, ISettingsHandler? settings = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (_started || _handler is not null)
        {
            throw new InvalidOperationException("The question handler is set once, before the client starts.");
        }

        _handler = handler;
        _settings = settings;
    }

    /// <summary>Starts the monitor (connect/reconnect), outbox, reply and question loops. Returns at once.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            throw new InvalidOperationException("Already started.");
        }

        if (_handler is null)
        {
            throw new InvalidOperationException("No question handler: pass one to the constructor or to Handle before starting.");
        }

        _started = true;
        CancellationToken ct = _stopping.Token;
        IQuestionHandler handler = _handler;
        ISettingsHandler? settings = _settings;
        _loops.Add(Task.Run(() => _connection.RunAsync(ct), CancellationToken.None));
        _loops.Add(Task.Run(() => _pump.RunAsync(ct), CancellationToken.None));
        _loops.Add(Task.Run(() => _direct.RunAsync(ct), CancellationToken.None));
        _loops.Add(Task.Run(() => _settingChanges.RunAsync(settings, ct), CancellationToken.None));
        _loops.Add(_questions.RunAsync(handler, ct));   // Mqtt:QuestionWorkers loops

        return Task.CompletedTask;
    }

    /// <summary>Completes when the client is connected (and subscribed).</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken = default) =>
        _connection.WaitConnectedAsync(cancellationToken);

    /// <summary>
    /// Stores the answer in the outbox (the reply to <paramref name="reply"/> first, then <c>…/&lt;camera&gt;/answer</c>)
    /// for publishing at QoS 1; returns the sequence number of the last record.
    /// </summary>
    /// <exception cref="OutboxFullException">The outbox is full and its policy rejects.</exception>
    public long PublishAnswer(AnswerMessage answer, ReplyRoute? reply = null)
    {
        ArgumentNullException.ThrowIfNull(answer);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(answer, MessagingJsonContext.Default.AnswerMessage);
        if (reply is { HasResponseTopic: true })
        {
            _outbox.Append(new OutboxMessage(reply.ResponseTopic!, json, _v5 ? reply.CorrelationData : null));
        }

        long sequence = _outbox.Append(new OutboxMessage(Topics.Answer(answer.Camera), json));
        AnswerPublished?.Invoke(answer);
        return sequence;
    }

    /// <summary>
    /// Raised after an answer was stored for publishing (standing and asked questions alike), on the thread that
    /// published it: the integrations (Sparkplug B, Home Assistant, the HTTP status) follow answers through it.
    /// Handlers must be quick and must not throw.
    /// </summary>
    public event Action<AnswerMessage>? AnswerPublished;

    /// <summary>
    /// Raised for each error reply or refusal queued for publishing (its <see cref="ErrorReply.Error"/> code), on the
    /// thread that refused: the service counts them by code for <c>/metrics</c>. Handlers must be quick and must not throw.
    /// </summary>
    public event Action<ErrorReply>? ErrorPublished
    {
        add => _errors.Published += value;
        remove => _errors.Published -= value;
    }

    /// <summary>
    /// Publishes a camera's snapshot JPEG on <c>…/&lt;camera&gt;/snapshot</c>, retained, at QoS 0 (an image is only
    /// worth its latest version), with the MQTT 5 content type <c>image/jpeg</c>. False when not connected or the
    /// publish failed; the next answer brings a fresh one.
    /// </summary>
    public Task<bool> PublishSnapshotAsync(string camera, byte[] jpeg, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jpeg);
        return _binary.PublishSnapshotAsync(Topics.Snapshot(camera), camera, jpeg, cancellationToken);
    }

    /// <summary>
    /// Also subscribes (QoS 1, after every connect) to <paramref name="filter"/> and hands each message on it to
    /// <paramref name="handler"/> (topic, payload) on the receive thread, before any other handling and without the
    /// question size limit (the decoder role's token packets). Call before <see cref="StartAsync"/>.
    /// </summary>
    public void Subscribe(string filter, Action<string, byte[]> handler)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(filter);
        ArgumentNullException.ThrowIfNull(handler);
        if (_started)
        {
            throw new InvalidOperationException("Subscribe before StartAsync.");
        }

        _inbound.Add(filter, handler);
    }

    /// <summary>
    /// Publishes a token packet on <c>…/&lt;camera&gt;/tokens</c> at QoS 1 with the MQTT 5 content type and user
    /// properties, directly (not through the outbox: packets are large and only the latest matters). False when not
    /// connected or the broker refused it; the caller logs and the next trigger brings a fresh packet.
    /// </summary>
    public Task<bool> PublishTokensAsync(string camera, byte[] packet, string contentType, IReadOnlyList<KeyValuePair<string, string>> properties, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(properties);
        return _binary.PublishTokensAsync(Topics.Tokens(camera), camera, packet, contentType, properties, cancellationToken);
    }

    /// <summary>Publishes an error message (no request to reply to) on <c>…/errors</c>.</summary>
    public void PublishError(string? camera, string topic, string code, string message) =>
        _errors.Reject(camera ?? "", topic, null, new ReplyRoute(), new RequestError(code, message));

    /// <summary>Publishes the retained status now if connected, and again after every reconnect.</summary>
    public Task PublishStatusAsync(StatusMessage status, CancellationToken cancellationToken = default)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(status, MessagingJsonContext.Default.StatusMessage);
        return RetainAsync(Topics.Status, json, cancellationToken);
    }

    /// <summary>Publishes stats at QoS 0 when connected; dropped otherwise (the next interval brings fresh ones).</summary>
    public Task PublishStatsAsync(StatsMessage stats, CancellationToken cancellationToken = default)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(stats, MessagingJsonContext.Default.StatsMessage);
        return _client.IsConnected
            ? PublishAsync(Topics.Stats, json, MqttQualityOfServiceLevel.AtMostOnce, retain: false, cancellationToken)
            : Task.CompletedTask;
    }

    /// <summary>
    /// Publishes the retained <c>…/&lt;camera&gt;/&lt;setting&gt;/state</c> now if connected, and again after every
    /// reconnect, so the retained state always tells what the service runs with (the service sets every camera's
    /// settings at start, restored ones included).
    /// </summary>
    public Task PublishSettingStateAsync(SettingState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(state, MessagingJsonContext.Default.SettingState);
        return RetainAsync(Topics.State(state.Camera, state.Setting), json, cancellationToken);
    }

    /// <summary>
    /// Publishes <paramref name="payload"/> retained (QoS 1) on <paramref name="topic"/> now if connected, and again
    /// after every reconnect, like the settings' states (the Home Assistant discovery configs).
    /// </summary>
    public Task PublishRetainedAsync(string topic, byte[] payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentNullException.ThrowIfNull(payload);
        return RetainAsync(topic, payload, cancellationToken);
    }

    /// <summary>Clean shutdown: stops the loops, publishes <c>offline</c> (retained) and disconnects normally.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await WhenLoopsDoneAsync().ConfigureAwait(false);
        await _connection.DisconnectAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the loops and drops the connection without DISCONNECT (the broker then publishes the will).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        await WhenLoopsDoneAsync().ConfigureAwait(false);
        _client.Dispose();
        _retained.Dispose();
        _stopping.Dispose();
    }

    private async Task WhenLoopsDoneAsync()
    {
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>After every connect (<see cref="ConnectionMonitor"/>, after <c>online</c>): every retained message again, the status first.</summary>
    private async Task RepublishRetainedAsync(CancellationToken ct)
    {
        foreach (string topic in _retained.Topics)
        {
            await PublishRetainedLatestAsync(topic, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Remembers <paramref name="payload"/> as <paramref name="topic"/>'s retained message (<see cref="RetainedMessages"/>) and publishes it now if connected.</summary>
    private Task RetainAsync(string topic, byte[] payload, CancellationToken ct)
    {
        _retained.Set(topic, payload);
        return _client.IsConnected ? PublishRetainedLatestAsync(topic, ct) : Task.CompletedTask;
    }

    /// <summary>A retained message's latest value at QoS 1, in order with every other retained publish (<see cref="RetainedMessages"/>).</summary>
    private Task PublishRetainedLatestAsync(string topic, CancellationToken ct) =>
        _retained.PublishLatestAsync(topic, (t, payload, c) => PublishAsync(t, payload, MqttQualityOfServiceLevel.AtLeastOnce, retain: true, c), ct);

    private async Task PublishAsync(string topic, byte[] payload, MqttQualityOfServiceLevel qos, bool retain, CancellationToken ct)
    {
        MqttApplicationMessage message = new MqttApplicationMessageBuilder()
            .WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos).WithRetainFlag(retain).Build();
        await _client.PublishAsync(message, ct).ConfigureAwait(false);
    }
}
