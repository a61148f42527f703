using System.Diagnostics;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Broker;
using LlavaUhd.Edge.Messaging.Outbox;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Hosting;

/// <summary>
/// Starts the embedded broker (when configured) and the MQTT client; on stop, gives pending answers a moment to
/// leave the outbox (they stay on disk otherwise and go out after the next start), then disconnects cleanly.
/// </summary>
internal sealed class MqttService : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan s_drain = TimeSpan.FromSeconds(3);

    private readonly EmbeddedBroker? _broker;
    private readonly EdgeMqttClient _client;
    private readonly AnswerOutbox _outbox;
    private readonly ILogger _logger;

    /// <param name="broker">The embedded broker, owned from here on; null when an external broker is used.</param>
    public MqttService(EmbeddedBroker? broker, EdgeMqttClient client, AnswerOutbox outbox, ILogger<MqttService> logger)
    {
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
        while (_client.IsConnected && (_outbox.PendingCount > 0 || _client.QueueDepth > 0) && sw.Elapsed < s_drain && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
        }

        if (_outbox.PendingCount > 0)
        {
            _logger.LogWarning("MQTT: {Count} answers stay in the outbox; they are sent after the next start.", _outbox.PendingCount);
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
