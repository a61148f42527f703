using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// Messages that go straight to the broker, not through the outbox (docs/mqtt.md): error replies and setting states.
/// Queued without waiting (at most <see cref="Capacity"/>; beyond it a message is dropped and the caller logs it),
/// published in order once the connection is up; one that fails is logged, not retried (a later state supersedes it).
/// Composed into <see cref="EdgeMqttClient"/>.
/// </summary>
internal sealed class DirectPublisher(IMqttClient client, Func<CancellationToken, Task> waitConnected, ILogger logger)
{
    public const int Capacity = 4096;

    private readonly IMqttClient _client = client;
    private readonly Func<CancellationToken, Task> _waitConnected = waitConnected;
    private readonly ILogger _logger = logger;
    private readonly Channel<MqttApplicationMessage> _queue = Channel.CreateBounded<MqttApplicationMessage>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>Queues <paramref name="message"/>; false when the queue is full (the message is dropped).</summary>
    public bool TryEnqueue(MqttApplicationMessage message) => _queue.Writer.TryWrite(message);

    /// <summary>Publishes queued messages until <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            await foreach (MqttApplicationMessage message in _queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    if (!_client.IsConnected)
                    {
                        await _waitConnected(ct).ConfigureAwait(false);
                    }

                    await _client.PublishAsync(message, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogWarning("MQTT: reply on {Topic} not sent: {Message}", message.Topic, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
