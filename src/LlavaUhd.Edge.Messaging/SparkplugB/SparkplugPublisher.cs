using System.Buffers;
using System.Threading.Channels;
using Google.Protobuf;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Options;
using LlavaUhd.Edge.Messaging.SparkplugB.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Messaging.SparkplugB;

/// <summary>
/// The Sparkplug B edge node on its own MQTT connection (its Last Will is the NDEATH, and MQTT allows one will per
/// connection; the device's main connection keeps its <c>available</c> will). One loop owns the connection and the
/// <see cref="SparkplugNode"/>: it connects with a fresh bdSeq and back-off, subscribes to NCMD, publishes the births,
/// then DDATA per answer, NDATA when the node stats change, DDEATH/DBIRTH when a camera fails or recovers, and the
/// births again on a <c>Node Control/Rebirth</c> command (docs/sparkplug-b.md). Failures are logged, never thrown
/// to the service.
/// </summary>
/// <remarks>
/// <see cref="StopAsync"/> publishes NDEATH and disconnects; <see cref="DisposeAsync"/> without it drops the
/// connection without DISCONNECT, so the broker publishes the NDEATH will.
/// </remarks>
public sealed class SparkplugPublisher : IAsyncDisposable
{
    private readonly MqttOptions _options;
    private readonly SparkplugNode _node;
    private readonly Func<int> _queueDepth;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IMqttClient _client;
    private readonly Channel<Command> _commands = Channel.CreateBounded<Command>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private long _dropped;
    private long _births;
    private bool _stopped;
    private bool _disposed;

    /// <param name="options">The validated MQTT options (broker, credentials, TLS, <c>SparkplugB</c>).</param>
    /// <param name="node">The node state, driven only by this publisher from now on.</param>
    /// <param name="queueDepth">The node's queue depth for the <c>Stats/Queue Depth</c> metric.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="time">Clock.</param>
    public SparkplugPublisher(MqttOptions options, SparkplugNode node, Func<int>? queueDepth = null, ILogger<SparkplugPublisher>? logger = null, TimeProvider? time = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _node = node ?? throw new ArgumentNullException(nameof(node));
        _queueDepth = queueDepth ?? (() => 0);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageReceivedAsync;
        _client.DisconnectedAsync += _ =>
        {
            _commands.Writer.TryWrite(Command.Wake);
            return Task.CompletedTask;
        };
    }

    public SparkplugTopics Topics => _node.Topics;

    public bool IsConnected => _client.IsConnected;

    /// <summary>Births published so far (after each connect and each rebirth request).</summary>
    public long BirthCount => Interlocked.Read(ref _births);

    /// <summary>Starts the connection loop. Returns at once.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("Already started.");
        }

        CancellationToken ct = _stopping.Token;
        _loop = Task.Run(() => LoopAsync(ct), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Follows an answer (DDATA). Cheap and non-throwing: fit for <see cref="EdgeMqttClient.AnswerPublished"/>.</summary>
    public void OnAnswer(AnswerMessage answer)
    {
        if (answer is not null && !_commands.Writer.TryWrite(new Command(CommandKind.Answer, answer, null, false)))
        {
            Dropped();
        }
    }

    /// <summary>A camera failed (false: DDEATH) or is live again (true: DBIRTH). Cheap and non-throwing.</summary>
    public void SetDeviceOnline(string camera, bool online)
    {
        if (!_commands.Writer.TryWrite(new Command(CommandKind.Device, null, camera, online)))
        {
            Dropped();
        }
    }

    /// <summary>Clean stop: stops the loop, publishes NDEATH (the session's bdSeq) and disconnects normally.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await StopLoopAsync().ConfigureAwait(false);
        if (_client.IsConnected)
        {
            try
            {
                await PublishAsync(_node.NodeDeath(), MqttQualityOfServiceLevel.AtLeastOnce, cancellationToken).ConfigureAwait(false);
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Without a clean NDEATH, drop the connection now (no DISCONNECT): the broker publishes the NDEATH will
                // while it still runs, instead of at disposal, which may come after an embedded broker has stopped.
                _logger.LogWarning("Sparkplug B: clean disconnect failed ({Message}); dropping the connection so the broker publishes the NDEATH will.", ex.Message);
                _client.Dispose();
            }
        }
    }

    /// <summary>Stops the loop and drops the connection without DISCONNECT (the broker then publishes the NDEATH will).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopLoopAsync().ConfigureAwait(false);
        _client.Dispose();
        _stopping.Dispose();
    }

    private async Task StopLoopAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    private void Dropped()
    {
        if (Interlocked.Increment(ref _dropped) % 100 == 1)
        {
            _logger.LogWarning("Sparkplug B: update queue full; {Count} updates dropped so far (the next birth carries the current values).", Interlocked.Read(ref _dropped));
        }
    }

    // The receive callback only copies the payload and queues it; the loop decodes it.
    private Task OnMessageReceivedAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        if (e.ApplicationMessage.Topic == _node.Topics.NodeCommand
            && !_commands.Writer.TryWrite(new Command(CommandKind.NodeCommand, null, null, false) { Payload = e.ApplicationMessage.Payload.ToArray() }))
        {
            Dropped();
        }

        return Task.CompletedTask;
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        TimeSpan min = TimeSpan.FromMilliseconds(_options.ReconnectMinDelayMs);
        TimeSpan max = TimeSpan.FromMilliseconds(_options.ReconnectMaxDelayMs);
        TimeSpan delay = min;
        TimeSpan tick = TimeSpan.FromSeconds(Math.Min(_options.StatsIntervalSeconds, Math.Max(1, _options.KeepAliveSeconds)));
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!_client.IsConnected)
                {
                    if (!await TryConnectAsync(ct).ConfigureAwait(false))
                    {
                        await Task.Delay(delay * (0.8 + (0.4 * Random.Shared.NextDouble())), _time, ct).ConfigureAwait(false);
                        delay = TimeSpan.FromTicks(Math.Min(max.Ticks, delay.Ticks * 2));
                        continue;
                    }

                    delay = min;
                }

                Command command;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    timeout.CancelAfter(tick);
                    try
                    {
                        command = await _commands.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        command = Command.Tick;
                    }
                }

                await HandleAsync(command, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // a publish on a dropping connection, a bad command: log, and the next round reconnects if needed
                _logger.LogWarning("Sparkplug B: {Message}", ex.Message);
                try
                {
                    await Task.Delay(min, _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task HandleAsync(Command command, CancellationToken ct)
    {
        switch (command.Kind)
        {
            case CommandKind.Answer:
                if (_node.DeviceData(command.Answer!) is { } data && _client.IsConnected)
                {
                    await PublishAsync(data, MqttQualityOfServiceLevel.AtMostOnce, ct).ConfigureAwait(false);
                }

                break;
            case CommandKind.Device:
                if (_node.SetDeviceOnline(command.Camera!, command.Online) is { } device && _client.IsConnected)
                {
                    await PublishAsync(device, MqttQualityOfServiceLevel.AtMostOnce, ct).ConfigureAwait(false);
                }

                break;
            case CommandKind.NodeCommand:
                Payload ncmd;
                try
                {
                    ncmd = Payload.Parser.ParseFrom(command.Payload);
                }
                catch (InvalidProtocolBufferException ex)
                {
                    _logger.LogWarning("Sparkplug B: NCMD that is not a Sparkplug B payload ignored: {Message}", ex.Message);
                    break;
                }

                if (SparkplugNode.IsRebirthRequest(ncmd))
                {
                    _logger.LogInformation("Sparkplug B: rebirth requested; publishing NBIRTH (bdSeq {BdSeq}) and the DBIRTHs again.", _node.BdSeq);
                    await PublishBirthsAsync(ct).ConfigureAwait(false);
                }

                break;
            case CommandKind.Tick:
                if (_node.NodeData(_queueDepth()) is { } stats && _client.IsConnected)
                {
                    await PublishAsync(stats, MqttQualityOfServiceLevel.AtMostOnce, ct).ConfigureAwait(false);
                }

                break;
            default:
                break;
        }
    }

    private async Task<bool> TryConnectAsync(CancellationToken ct)
    {
        SparkplugMessage death = _node.BeginSession();
        // Sparkplug 3.0: a clean session (MQTT 5: Clean Start, session expiry 0); NDEATH as the will, QoS 1, not retained
        MqttClientOptions options = MqttConnectionOptions.Build(
            _options, _options.EffectiveSparkplugClientId, cleanStart: true, sessionExpirySeconds: 0,
            death.Topic, death.Payload.ToByteArray(), willRetain: false, MqttQualityOfServiceLevel.AtLeastOnce);
        try
        {
            MqttClientConnectResult result = await _client.ConnectAsync(options, ct).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                _logger.LogError("Sparkplug B: broker refused the connection: {Code} {Reason}", result.ResultCode, result.ReasonString);
                return false;
            }

            await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(_node.Topics.NodeCommand, MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct).ConfigureAwait(false);
            await PublishBirthsAsync(ct).ConfigureAwait(false);
            _logger.LogInformation("Sparkplug B: node {Group}/{Node} born (bdSeq {BdSeq}) as {ClientId}.",
                _node.Topics.GroupId, _node.Topics.EdgeNodeId, _node.BdSeq, _options.EffectiveSparkplugClientId);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _logger.LogWarning("Sparkplug B: cannot connect to {Host}:{Port}: {Message}", _options.Host, _options.Port, ex.Message);
            if (_client.IsConnected)
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None).ConfigureAwait(false);
            }

            return false;
        }
    }

    private async Task PublishBirthsAsync(CancellationToken ct)
    {
        foreach (SparkplugMessage birth in _node.Births(_queueDepth()))
        {
            await PublishAsync(birth, MqttQualityOfServiceLevel.AtMostOnce, ct).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _births);
    }

    private Task PublishAsync(SparkplugMessage message, MqttQualityOfServiceLevel qos, CancellationToken ct) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(message.Topic)
            .WithPayload(message.Payload.ToByteArray())
            .WithQualityOfServiceLevel(qos)
            .Build(), ct);

    private enum CommandKind
    {
        Wake,
        Tick,
        Answer,
        Device,
        NodeCommand,
    }

    private sealed record Command(CommandKind Kind, AnswerMessage? Answer, string? Camera, bool Online)
    {
        public static readonly Command Wake = new(CommandKind.Wake, null, null, false);
        public static readonly Command Tick = new(CommandKind.Tick, null, null, false);

        public byte[]? Payload { get; init; }
    }
}
