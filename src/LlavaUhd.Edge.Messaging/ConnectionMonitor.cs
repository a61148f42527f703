using System.Text;
using System.Threading.Channels;
using LlavaUhd.Edge.Messaging.Options;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// Keeps the device's connection up (docs/mqtt.md, "Connection"; MQTTnet 5 has no managed client) and owns its
/// availability topic: connects with the Last Will (<c>available</c> = <c>offline</c>, retained), and from a monitor
/// loop reconnects with exponential back-off and jitter, logging every failed attempt with its reason. After every
/// CONNECT it subscribes to <c>filters</c> at QoS 1, publishes <c>online</c> (retained) and runs <c>republish</c> (the
/// client's retained messages), and only then counts the connection and completes <see cref="WaitConnectedAsync"/>. A
/// disconnect wakes the loop at once; between disconnects it pings every keep-alive period. <see cref="DisconnectAsync"/>
/// is the clean end: <c>offline</c>, then DISCONNECT. Composed into <see cref="EdgeMqttClient"/>.
/// </summary>
internal sealed class ConnectionMonitor
{
    private static readonly byte[] s_online = Encoding.UTF8.GetBytes(MqttTopics.OnlinePayload);
    private static readonly byte[] s_offline = Encoding.UTF8.GetBytes(MqttTopics.OfflinePayload);

    private readonly IMqttClient _client;
    private readonly MqttOptions _options;
    private readonly MqttClientOptions _clientOptions;
    private readonly string _availableTopic;
    private readonly Func<IEnumerable<string>> _filters;
    private readonly Func<CancellationToken, Task> _republish;
    private readonly CancellationToken _stopping;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _connectError;
    private int _connectFailures;
    private long _connects;

    /// <param name="client">The connection to keep.</param>
    /// <param name="options">The validated MQTT options (broker, session, back-off, keep-alive).</param>
    /// <param name="availableTopic">The device's <c>…/available</c>: the Last Will's topic (<c>offline</c>), and <c>online</c> after every CONNECT; retained, QoS 1.</param>
    /// <param name="filters">The topic filters to subscribe to after every CONNECT.</param>
    /// <param name="republish">Runs after <c>online</c>, on every CONNECT: the client publishes its retained messages again.</param>
    /// <param name="stopping">The client's stop: a disconnect after it is the clean shutdown, not logged.</param>
    public ConnectionMonitor(
        IMqttClient client,
        MqttOptions options,
        string availableTopic,
        Func<IEnumerable<string>> filters,
        Func<CancellationToken, Task> republish,
        TimeProvider time,
        ILogger logger,
        CancellationToken stopping)
    {
        _client = client;
        _options = options;
        _availableTopic = availableTopic;
        _filters = filters;
        _republish = republish;
        _stopping = stopping;
        _time = time;
        _logger = logger;
        _clientOptions = MqttConnectionOptions.Build(
            options,
            options.EffectiveClientId,
            options.CleanSession,
            options.CleanSession || options.ProtocolVersion != 5 ? 0u : (uint)options.SessionExpirySeconds,
            availableTopic,
            s_offline,
            willRetain: true,
            MqttQualityOfServiceLevel.AtLeastOnce);
    }

    /// <summary>Successful CONNECTs so far (1 after the first, +1 per reconnect).</summary>
    public long ConnectCount => Interlocked.Read(ref _connects);

    /// <summary>Completes when the client is connected (and subscribed).</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken = default) =>
        Volatile.Read(ref _connected).Task.WaitAsync(cancellationToken);

    /// <summary>Connects, and reconnects after every loss, until <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
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

    /// <summary>The client's <c>DisconnectedAsync</c> handler: a new "connected" to wait for, and the loop woken to reconnect.</summary>
    public Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
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

    /// <summary>The clean shutdown, after the loop stopped: publishes <c>offline</c> (retained) and disconnects normally, so the broker does not publish the will.</summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken)
    {
        if (_client.IsConnected)
        {
            try
            {
                await PublishAvailableAsync(s_offline, cancellationToken).ConfigureAwait(false);
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException)
            {
                _logger.LogWarning(ex, "MQTT: clean disconnect failed.");
            }
        }
    }

    private async Task PublishAvailableAsync(byte[] payload, CancellationToken ct)
    {
        MqttApplicationMessage message = new MqttApplicationMessageBuilder()
            .WithTopic(_availableTopic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag(true).Build();
        await _client.PublishAsync(message, ct).ConfigureAwait(false);
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
            var subscribe = new MqttClientSubscribeOptionsBuilder();
            foreach (string filter in _filters())
            {
                subscribe = subscribe.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
            }

            MqttClientSubscribeResult sub = await _client.SubscribeAsync(subscribe.Build(), ct).ConfigureAwait(false);
            foreach (MqttClientSubscribeResultItem item in sub.Items)
            {
                if ((int)item.ResultCode > 2)
                {
                    _logger.LogError("MQTT: subscription to {Filter} refused: {Code}", item.TopicFilter.Topic, item.ResultCode);
                }
            }

            await PublishAvailableAsync(s_online, ct).ConfigureAwait(false);
            await _republish(ct).ConfigureAwait(false);
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
}
