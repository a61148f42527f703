using LlavaUhd.Edge.Core.Diagnostics;
using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Errors;
using LlavaUhd.Edge.Messaging.Options;
using LlavaUhd.Edge.Messaging.Outbox;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
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
/// <see cref="StopAsync"/> is the clean shutdown (publishes <c>offline</c>, then DISCONNECT).
/// <see cref="DisposeAsync"/> without it drops the connection without DISCONNECT, so the broker publishes the will.
/// The outbox is owned by the caller and not disposed here.
/// </remarks>
public sealed class EdgeMqttClient : IEdgePublisher, IAsyncDisposable
{
    private static readonly byte[] s_online = Encoding.UTF8.GetBytes(MqttTopics.OnlinePayload);
    private static readonly byte[] s_offline = Encoding.UTF8.GetBytes(MqttTopics.OfflinePayload);

    private readonly MqttOptions _options;
    private readonly AnswerOutbox _outbox;
    private IQuestionHandler? _handler;
    private ISettingsHandler? _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly LogThrottle _rejectLog;
    private string? _connectError;
    private int _connectFailures;
    private readonly QuestionParser _parser;
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly bool _v5;
    private readonly Channel<Question> _questions;
    private readonly Channel<SettingChange> _settingChanges = Channel.CreateBounded<SettingChange>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly OutboxPump _pump;
    private readonly DirectPublisher _direct;
    private readonly ErrorReplies _errors;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(string Filter, Action<string, byte[]> Handler)> _raw = [];
    private readonly RetainedMessages _retained;
    private long _answered;
    private long _busy;
    private long _connects;
    private int _queueDepth;
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

        _options = options;
        _outbox = outbox ?? throw new ArgumentNullException(nameof(outbox));
        _handler = handler;
        _settings = settings;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        Topics = new MqttTopics(options);
        _parser = new QuestionParser(cameras, options.MaxPayloadBytes, _time);
        _rejectLog = new LogThrottle(TimeSpan.FromSeconds(10), _time);
        _v5 = options.ProtocolVersion == 5;
        _questions = Channel.CreateBounded<Question>(new BoundedChannelOptions(options.QuestionQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
        });
        _clientOptions = BuildClientOptions(options);
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageReceivedAsync;
        _client.DisconnectedAsync += OnDisconnectedAsync;
        _retained = new RetainedMessages(Topics.Status);
        _direct = new DirectPublisher(_client, WaitConnectedAsync, _logger);
        _errors = new ErrorReplies(Topics, _v5, _direct, _rejectLog, _time, _logger);
        _pump = new OutboxPump(_outbox, _client, _v5, WaitConnectedAsync, TimeSpan.FromMilliseconds(options.ReconnectMinDelayMs), _time, _logger);
    }

    public MqttTopics Topics { get; }

    public bool IsConnected => _client.IsConnected;

    /// <summary>Questions answered (an answer went to the outbox).</summary>
    public long QuestionsAnswered => Interlocked.Read(ref _answered);

    /// <summary>Requests refused with an error reply (busy included).</summary>
    public long QuestionsRejected => _errors.Rejected;

    /// <summary>Questions refused because the queue was full.</summary>
    public long QuestionsBusy => Interlocked.Read(ref _busy);

    /// <summary>Questions waiting for or inside the handler.</summary>
    public int QueueDepth => Volatile.Read(ref _queueDepth);

    /// <summary>Successful CONNECTs so far (1 after the first, +1 per reconnect).</summary>
    public long ConnectCount => Interlocked.Read(ref _connects);

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
        _loops.Add(Task.Run(() => MonitorLoopAsync(ct), CancellationToken.None));
        _loops.Add(Task.Run(() => _pump.RunAsync(ct), CancellationToken.None));
        _loops.Add(Task.Run(() => _direct.RunAsync(ct), CancellationToken.None));
        _loops.Add(Task.Run(() => SettingsLoopAsync(ct), CancellationToken.None));
        for (int i = 0; i < _options.QuestionWorkers; i++)
        {
            _loops.Add(Task.Run(() => QuestionLoopAsync(ct), CancellationToken.None));
        }

        return Task.CompletedTask;
    }

    /// <summary>Completes when the client is connected (and subscribed).</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken = default) =>
        Volatile.Read(ref _connected).Task.WaitAsync(cancellationToken);

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
    public async Task<bool> PublishSnapshotAsync(string camera, byte[] jpeg, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jpeg);
        string topic = Topics.Snapshot(camera);
        if (!_client.IsConnected)
        {
            return false;
        }

        MqttApplicationMessageBuilder builder = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(jpeg)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
            .WithRetainFlag(true);
        if (_v5)
        {
            builder = builder.WithContentType("image/jpeg");
        }

        try
        {
            MqttClientPublishResult result = await _client.PublishAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
            return result.IsSuccess;
        }
        catch (Exception ex) when (ex is MqttCommunicationException or InvalidOperationException)
        {
            _logger.LogWarning("MQTT: snapshot of {Camera} not sent: {Message}", camera, ex.Message);
            return false;
        }
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

        _raw.Add((filter, handler));
    }

    /// <summary>
    /// Publishes a token packet on <c>…/&lt;camera&gt;/tokens</c> at QoS 1 with the MQTT 5 content type and user
    /// properties, directly (not through the outbox: packets are large and only the latest matters). False when not
    /// connected or the broker refused it; the caller logs and the next trigger brings a fresh packet.
    /// </summary>
    public async Task<bool> PublishTokensAsync(string camera, byte[] packet, string contentType, IReadOnlyList<KeyValuePair<string, string>> properties, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(properties);
        if (!_client.IsConnected)
        {
            return false;
        }

        MqttApplicationMessageBuilder builder = new MqttApplicationMessageBuilder()
            .WithTopic(Topics.Tokens(camera))
            .WithPayload(packet)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (_v5)
        {
            builder = builder.WithContentType(contentType);
            foreach (KeyValuePair<string, string> p in properties)
            {
                builder = builder.WithUserProperty(p.Key, System.Text.Encoding.UTF8.GetBytes(p.Value));
            }
        }

        try
        {
            MqttClientPublishResult result = await _client.PublishAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                _logger.LogError("MQTT: broker refused tokens of {Camera}: {Code} {Reason}", camera, result.ReasonCode, result.ReasonString);
            }

            return result.IsSuccess;
        }
        catch (Exception ex) when (ex is MqttCommunicationException or InvalidOperationException)
        {
            _logger.LogWarning("MQTT: tokens of {Camera} not sent: {Message}", camera, ex.Message);
            return false;
        }
    }

    /// <summary>Publishes an error message (no request to reply to) on <c>…/errors</c>.</summary>
    public void PublishError(string? camera, string topic, string code, string message) =>
        Reject(camera ?? "", topic, null, new ReplyRoute(), new RequestError(code, message));

    /// <summary>Publishes the retained status now if connected, and again after every reconnect.</summary>
    public Task PublishStatusAsync(StatusMessage status, CancellationToken cancellationToken = default)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(status, MessagingJsonContext.Default.StatusMessage);
        _retained.Set(Topics.Status, json);
        return _client.IsConnected ? PublishRetainedLatestAsync(Topics.Status, cancellationToken) : Task.CompletedTask;
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
        string topic = Topics.State(state.Camera, state.Setting);
        _retained.Set(topic, json);
        return _client.IsConnected ? PublishRetainedLatestAsync(topic, cancellationToken) : Task.CompletedTask;
    }

    /// <summary>
    /// Publishes <paramref name="payload"/> retained (QoS 1) on <paramref name="topic"/> now if connected, and again
    /// after every reconnect, like the settings' states (the Home Assistant discovery configs).
    /// </summary>
    public Task PublishRetainedAsync(string topic, byte[] payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentNullException.ThrowIfNull(payload);
        _retained.Set(topic, payload);
        return _client.IsConnected ? PublishRetainedLatestAsync(topic, cancellationToken) : Task.CompletedTask;
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
        if (_client.IsConnected)
        {
            try
            {
                await PublishAsync(Topics.Available, s_offline, MqttQualityOfServiceLevel.AtLeastOnce, retain: true, cancellationToken).ConfigureAwait(false);
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException)
            {
                _logger.LogWarning(ex, "MQTT: clean disconnect failed.");
            }
        }
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

    private static MqttClientOptions BuildClientOptions(MqttOptions o) => MqttConnectionOptions.Build(
        o,
        o.EffectiveClientId,
        o.CleanSession,
        o.CleanSession || o.ProtocolVersion != 5 ? 0u : (uint)o.SessionExpirySeconds,
        new MqttTopics(o).Available,
        s_offline,
        willRetain: true,
        MqttQualityOfServiceLevel.AtLeastOnce);

    // ---- connection ----------------------------------------------------------------------------------------------

    private async Task MonitorLoopAsync(CancellationToken ct)
    {
        TimeSpan min = TimeSpan.FromMilliseconds(_options.ReconnectMinDelayMs);
        TimeSpan max = TimeSpan.FromMilliseconds(_options.ReconnectMaxDelayMs);
        TimeSpan delay = min;
        TimeSpan check = TimeSpan.FromSeconds(Math.Max(1, _options.KeepAliveSeconds));
        if (_options.Tls.AllowUntrusted && _options.Tls.Enabled)
        {
            _logger.LogWarning("MQTT: TLS certificate validation is off (Mqtt:Tls:AllowUntrusted); use only with a test broker.");
        }

        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!_client.IsConnected)
                {
                    if (await TryConnectAsync(ct).ConfigureAwait(false))
                    {
                        delay = min;
                    }
                    else
                    {
                        TimeSpan jittered = delay * (0.8 + (0.4 * Random.Shared.NextDouble()));
                        _connectFailures++;
                        _logger.LogWarning("MQTT: cannot connect to {Host}:{Port}: {Reason}; attempt {Attempt}, next in {Delay:0.0} s.",
                            _options.Host, _options.Port, _connectError, _connectFailures, jittered.TotalSeconds);
                        await Task.Delay(jittered, _time, ct).ConfigureAwait(false);
                        delay = TimeSpan.FromTicks(Math.Min(max.Ticks, delay.Ticks * 2));
                        continue;
                    }
                }

                // Sleep until a disconnect wakes us or the check interval passes; then verify the link.
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(check);
                try
                {
                    await _wake.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    if (_client.IsConnected && !await _client.TryPingAsync(ct).ConfigureAwait(false))
                    {
                        _logger.LogWarning("MQTT: ping failed; reconnecting.");
                        await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "MQTT: monitor loop error.");
                await Task.Delay(delay, _time, ct).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }

    private async Task<bool> TryConnectAsync(CancellationToken ct)
    {
        MqttClientConnectResult result;
        try
        {
            result = await _client.ConnectAsync(_clientOptions, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            _connectError = ex is OperationCanceledException ? "no answer from the broker (timed out)" : Innermost(ex).Message;
            return false;
        }

        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            _connectError = $"the broker refused the connection: {result.ResultCode} {result.ReasonString}".TrimEnd();
            _logger.LogError("MQTT: broker {Host}:{Port} refused the connection: {Code} {Reason}", _options.Host, _options.Port, result.ResultCode, result.ReasonString);
            return false;
        }

        _connectFailures = 0;

        try
        {
            var subscribe = new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(Topics.AskFilter, MqttQualityOfServiceLevel.AtLeastOnce)
                .WithTopicFilter(Topics.SetFilter, MqttQualityOfServiceLevel.AtLeastOnce);
            foreach ((string filter, _) in _raw)
            {
                subscribe = subscribe.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
            }

            if (!string.IsNullOrEmpty(_options.SharedSubscriptionGroup))
            {
                subscribe = subscribe.WithTopicFilter(Topics.SharedAskFilter(_options.SharedSubscriptionGroup), MqttQualityOfServiceLevel.AtLeastOnce);
            }

            MqttClientSubscribeResult sub = await _client.SubscribeAsync(subscribe.Build(), ct).ConfigureAwait(false);
            foreach (MqttClientSubscribeResultItem item in sub.Items)
            {
                if ((int)item.ResultCode > 2)
                {
                    _logger.LogError("MQTT: subscription to {Filter} refused: {Code}", item.TopicFilter.Topic, item.ResultCode);
                }
            }

            await PublishAsync(Topics.Available, s_online, MqttQualityOfServiceLevel.AtLeastOnce, retain: true, ct).ConfigureAwait(false);
            foreach (string topic in _retained.Topics)
            {
                await PublishRetainedLatestAsync(topic, ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            _logger.LogWarning(ex, "MQTT: connected but subscribing failed; reconnecting.");
            return false;
        }

        long n = Interlocked.Increment(ref _connects);
        _logger.LogInformation("MQTT: connected to {Host}:{Port} as {ClientId} (connection {Count}).", _options.Host, _options.Port, _options.EffectiveClientId, n);
        Volatile.Read(ref _connected).TrySetResult();
        return true;
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        TaskCompletionSource current = Volatile.Read(ref _connected);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _connected, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
            if (!_stopping.IsCancellationRequested)
            {
                _logger.LogWarning("MQTT: disconnected ({Reason}); reconnecting with back-off.", e.Reason);
            }
        }

        _wake.Writer.TryWrite(true);
        return Task.CompletedTask;
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

    // ---- incoming ------------------------------------------------------------------------------------------------

    private Task OnMessageReceivedAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        try
        {
            // A question is acknowledged to the broker only once it is answered (the answer in the outbox) or refused:
            // a question in flight when the process dies is delivered again on the next start (at least once).
            if (e.ApplicationMessage.QualityOfServiceLevel != MqttQualityOfServiceLevel.AtMostOnce)
            {
                e.AutoAcknowledge = false;
            }

            if (!HandleIncoming(e.ApplicationMessage, e) && !e.AutoAcknowledge)
            {
                return e.AcknowledgeAsync(CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            // Never let one message take the receive loop down, nor leave it unacknowledged (the broker would hold
            // a slot of its in-flight window for it until the next connection).
            _logger.LogError(ex, "MQTT: failed to handle a message on {Topic}.", LogText.Quote(e.ApplicationMessage.Topic));
            if (!e.AutoAcknowledge)
            {
                return e.AcknowledgeAsync(CancellationToken.None);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Handles one message; true when it became a queued question that acknowledges <paramref name="received"/> itself when done.</summary>
    private bool HandleIncoming(MqttApplicationMessage message, MqttApplicationMessageReceivedEventArgs? received = null)
    {
        foreach ((string filter, Action<string, byte[]> handler) in _raw)
        {
            if (MqttTopicFilterComparer.Compare(message.Topic, filter) == MqttTopicFilterCompareResult.IsMatch)
            {
                handler(message.Topic, message.Payload.ToArray());
                return false;
            }
        }

        if (!Topics.TryParse(message.Topic, out TopicAddress address))
        {
            return false;
        }

        var route = new ReplyRoute
        {
            ResponseTopic = QuestionParser.IsValidReplyTopic(message.ResponseTopic) ? message.ResponseTopic : null,
            CorrelationData = message.CorrelationData is { Length: > 0 } cd ? cd : null,
        };
        ReadOnlySequence<byte> payload = message.Payload;
        if (payload.Length > _options.MaxPayloadBytes)
        {
            Reject(address.Camera, message.Topic, null, route,
                new RequestError(ErrorCodes.PayloadTooLarge, $"Payload of {payload.Length} bytes exceeds the limit of {_options.MaxPayloadBytes}."));
            return false;
        }

        ReadOnlySpan<byte> bytes = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        if (address.Kind == TopicKind.Set)
        {
            ParseResult<SettingChange> s = _parser.ParseSetting(address.Camera, address.Setting!, bytes, route);
            if (s.Value is null)
            {
                Reject(address.Camera, message.Topic, null, s.Reply, s.Error!);
            }
            else if (!_settingChanges.Writer.TryWrite(s.Value))
            {
                Reject(address.Camera, message.Topic, null, s.Reply, new RequestError(ErrorCodes.Busy, "Too many setting changes pending."));
            }

            return false;
        }

        ParseResult<Question> r = _parser.ParseAsk(address.Camera, bytes, route, address.Kind == TopicKind.SharedAsk);
        if (r.Value is not Question parsed)
        {
            Reject(address.Camera, message.Topic, null, r.Reply, r.Error!);
            return false;
        }

        Question question = received is { AutoAcknowledge: false } ? parsed with { Received = received } : parsed;
        Interlocked.Increment(ref _queueDepth);
        if (!_questions.Writer.TryWrite(question))
        {
            Interlocked.Decrement(ref _queueDepth);
            Interlocked.Increment(ref _busy);
            Reject(question.Camera, message.Topic, question.Id, question.Reply,
                new RequestError(ErrorCodes.Busy, $"The question queue is full ({_options.QuestionQueueCapacity}); try again later."));
            return false;
        }

        return question.Received is not null;
    }

    private void Reject(string camera, string topic, string? questionId, ReplyRoute route, RequestError error) =>
        _errors.Reject(camera, topic, questionId, route, error);

    private async Task QuestionLoopAsync(CancellationToken ct)
    {
        try
        {
            await foreach (Question question in _questions.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    QuestionAnswer a = await _handler!.AnswerAsync(question, ct).ConfigureAwait(false);
                    var answer = new AnswerMessage
                    {
                        Id = Guid.CreateVersion7().ToString("N"),
                        QuestionId = question.Id,
                        CorrelationId = question.Reply.CorrelationId,
                        Device = _options.DeviceId,
                        Camera = question.Camera,
                        FrameTimestamp = a.FrameTimestamp,
                        FrameSequence = a.FrameSequence,
                        AnswerTimestamp = _time.GetUtcNow(),
                        Roi = a.Roi ?? question.Roi,
                        Question = question.Text,
                        Answer = a.Answer,
                        AnswerType = question.AnswerType?.Name,
                        Value = a.Value,
                        PromptTokens = a.PromptTokens,
                        CompletionTokens = a.CompletionTokens,
                        VisualTokens = a.VisualTokens,
                        Timings = a.Timings,
                        Model = a.Model,
                    };
                    PublishAnswer(answer, question.Reply);
                    Interlocked.Increment(ref _answered);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    throw;
                }
                catch (RequestRejectedException ex)
                {
                    if (ex.Code == ErrorCodes.Busy)
                    {
                        Interlocked.Increment(ref _busy);
                    }

                    if (_rejectLog.Allow("refused:" + ex.Code, out int suppressed))
                    {
                        _logger.LogInformation("MQTT: question {Id} on {Camera} refused ({Code}): {Message}{More}", LogText.Quote(question.Id), question.Camera, ex.Code, LogText.Quote(ex.Message),
                            suppressed > 0 ? $" (and {suppressed} more refused {ex.Code} since the last line)" : string.Empty);
                    }
                    Reject(question.Camera, Topics.Ask(question.Camera), question.Id, question.Reply, new RequestError(ex.Code, ex.Message));
                }
                catch (OutboxFullException ex)
                {
                    _logger.LogError("MQTT: answer to question {Id} lost: {Message}", question.Id, ex.Message);
                    Reject(question.Camera, Topics.Ask(question.Camera), question.Id, question.Reply, new RequestError(ErrorCodes.Internal, "Outbox full; answer not stored."));
                }
                catch (Exception ex)
                {
                    _logger.LogError(ex, "MQTT: question {Id} on {Camera} failed.", question.Id, question.Camera);
                    Reject(question.Camera, Topics.Ask(question.Camera), question.Id, question.Reply, new RequestError(ErrorCodes.Internal, ex.Message));
                }
                finally
                {
                    Interlocked.Decrement(ref _queueDepth);
                    if (question.Received is { } received)
                    {
                        try
                        {
                            await received.AcknowledgeAsync(CancellationToken.None).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            // the connection dropped meanwhile: the broker delivers the question again (at least once)
                            _logger.LogDebug("MQTT: acknowledging question {Id} failed: {Message}", LogText.Quote(question.Id), ex.Message);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SettingsLoopAsync(CancellationToken ct)
    {
        try
        {
            await foreach (SettingChange change in _settingChanges.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                string topic = Topics.Set(change.Camera, change.SettingName);
                try
                {
                    RequestError? refused = _settings is null ? null : await _settings.ApplyAsync(change, ct).ConfigureAwait(false);
                    if (refused is not null)
                    {
                        Reject(change.Camera, topic, null, change.Reply, refused);
                        continue;
                    }

                    var state = new SettingState
                    {
                        Camera = change.Camera,
                        Setting = change.SettingName,
                        Enabled = change.Enabled,
                        Question = change.Question,
                        AnswerType = change.Setting == CameraSetting.Question ? _settings?.AnswerTypeOf(change.Camera) : null,
                        IntervalS = change.IntervalS,
                        Timestamp = _time.GetUtcNow(),
                    };
                    byte[] json = JsonSerializer.SerializeToUtf8Bytes(state, MessagingJsonContext.Default.SettingState);
                    _retained.Set(Topics.State(change.Camera, change.SettingName), json);
                    _direct.TryEnqueue(new MqttApplicationMessageBuilder().WithTopic(Topics.State(change.Camera, change.SettingName))
                        .WithPayload(json).WithRetainFlag().WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogError(ex, "MQTT: setting {Setting} of {Camera} failed.", change.SettingName, change.Camera);
                    Reject(change.Camera, topic, null, change.Reply, new RequestError(ErrorCodes.Internal, ex.Message));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
