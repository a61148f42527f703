using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlavaUhd.Edge.Messaging.HomeAssistant;

/// <summary>
/// Publishes the retained discovery configs through the device's <see cref="EdgeMqttClient"/> (which re-publishes
/// them after every reconnect) and again whenever Home Assistant announces <c>online</c> on its status topic
/// (docs/home-assistant.md). Construct it before the client starts: it subscribes to the status topic. Failures
/// are logged, never thrown to the service.
/// </summary>
public sealed class HomeAssistantPublisher : IAsyncDisposable
{
    private static readonly byte[] s_online = "online"u8.ToArray();

    private readonly EdgeMqttClient _client;
    private readonly HomeAssistantDiscovery _discovery;
    private readonly ILogger _logger;
    private readonly Channel<bool> _republish = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private long _published;
    private bool _disposed;

    public HomeAssistantPublisher(EdgeMqttClient client, HomeAssistantDiscovery discovery, ILogger<HomeAssistantPublisher>? logger = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _discovery = discovery ?? throw new ArgumentNullException(nameof(discovery));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _client.Subscribe(discovery.StatusTopic, OnStatus);
    }

    /// <summary>Times the whole set of configs was handed to the client (1 at start, +1 per Home Assistant birth).</summary>
    public long PublishCount => Interlocked.Read(ref _published);

    /// <summary>Publishes the configs and starts listening for Home Assistant's birth message. Returns at once.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("Already started.");
        }

        _republish.Writer.TryWrite(true);
        CancellationToken ct = _stopping.Token;
        _loop = Task.Run(() => LoopAsync(ct), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    // on MQTTnet's receive thread: compare and signal only
    private void OnStatus(string topic, byte[] payload)
    {
        if (payload.AsSpan().Trim((byte)' ').SequenceEqual(s_online))
        {
            _republish.Writer.TryWrite(true);
        }
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        try
        {
            // after the first connect: the client then publishes each config once here, and again after reconnects
            await _client.WaitConnectedAsync(ct).ConfigureAwait(false);
            await foreach (bool _ in _republish.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    IReadOnlyList<DiscoveryConfig> configs = _discovery.Configs();
                    foreach (DiscoveryConfig config in configs)
                    {
                        await _client.PublishRetainedAsync(config.Topic, config.Payload, ct).ConfigureAwait(false);
                    }

                    long n = Interlocked.Increment(ref _published);
                    _logger.LogInformation("Home Assistant: {Count} discovery configs published under {Prefix} (time {N}).", configs.Count, _discovery.StatusTopic[..^"/status".Length], n);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // not connected meanwhile: the client re-publishes them after the reconnect
                    _logger.LogWarning("Home Assistant: discovery configs not published now ({Message}); they follow the reconnect.", ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
