using System.Diagnostics;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Broker;
using LlavaUhd.Edge.Messaging.Outbox;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Hosting;

/// <summary>
/// Starts the embedded broker (when configured) and the MQTT client; on a normal stop, keeps delivering what the
/// outbox holds — through a broker outage too, the client reconnecting meanwhile — for up to
/// <c>Service:ShutdownDrainSeconds</c>, says how many answers stay queued for the next start, then disconnects cleanly.
/// </summary>
internal sealed class MqttService : IHostedService, IAsyncDisposable
{
    private readonly EmbeddedBroker? _broker;
    private readonly EdgeMqttClient _client;
    private readonly AnswerOutbox _outbox;
    private readonly ILogger _logger;
    private readonly TimeSpan _drain;

    /// <param name="broker">The embedded broker, owned from here on; null when an external broker is used.</param>
    public MqttService(EmbeddedBroker? broker, EdgeMqttClient client, AnswerOutbox outbox, ILogger<MqttService> logger, TimeSpan? drain = null)
    {
        _drain = drain ?? TimeSpan.FromSeconds(10);
        _broker = broker;
        _client = client;
        _outbox = outbox;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_broker is not null)
        {
            await _broker.StartAsync().ConfigureAwait(false);
            _logger.LogInformation("MQTT: embedded broker listening on 127.0.0.1:{Port}.", _broker.Port);
        }

        await _client.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        int pending = _outbox.PendingCount;
        if (pending > 0)
        {
            _logger.LogInformation("MQTT: stopping; delivering {Count} answers from the outbox (up to {Seconds:0} s).", pending, _drain.TotalSeconds);
        }

        // not only while connected: the client keeps reconnecting, and a broker back within the drain time gets them
        while ((_outbox.PendingCount > 0 || _client.QueueDepth > 0) && sw.Elapsed < _drain && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }

        if (_outbox.PendingCount > 0)
        {
            _logger.LogWarning("MQTT: {Count} answers stay queued in the outbox ({Delivered} delivered while stopping); they are sent after the next start.",
                _outbox.PendingCount, Math.Max(0, pending - _outbox.PendingCount));
        }
        else if (pending > 0)
        {
            _logger.LogInformation("MQTT: all {Count} pending answers delivered before stopping.", pending);
        }

        await _client.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_broker is not null)
        {
            await _broker.StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Disposes the embedded broker it owns (the client and outbox belong to the container).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync().ConfigureAwait(false);
        }
    }
}
