using LlavaUhd.Edge.Messaging.Outbox;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// The outbox's side of the MQTT client (docs/mqtt.md, "Delivery guarantees"): takes the oldest stored answer,
/// publishes it at QoS 1 once the connection is up, and removes it from the outbox only after the broker's PUBACK; an
/// answer that was not acknowledged stays at the head and goes again after the reconnect. One at a time, in order, so
/// a reconnect re-sends at most the one message in flight. Composed into <see cref="EdgeMqttClient"/>.
/// </summary>
internal sealed class OutboxPump(
    AnswerOutbox outbox,
    IMqttClient client,
    bool v5,
    Func<CancellationToken, Task> waitConnected,
    TimeSpan retryDelay,
    TimeProvider time,
    ILogger logger)
{
    private readonly AnswerOutbox _outbox = outbox;
    private readonly IMqttClient _client = client;
    private readonly bool _v5 = v5;
    private readonly Func<CancellationToken, Task> _waitConnected = waitConnected;
    private readonly TimeSpan _retryDelay = retryDelay;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;

    /// <summary>Publishes stored answers until <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            OutboxEntry entry;
            try
            {
                entry = await _outbox.WaitAsync(ct).ConfigureAwait(false);
                if (!_client.IsConnected)
                {
                    await _waitConnected(ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }

            var builder = new MqttApplicationMessageBuilder()
                .WithTopic(entry.Message.Topic)
                .WithPayload(entry.Message.Payload.ToArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithContentType("application/json");
            if (_v5 && !entry.Message.CorrelationData.IsEmpty)
            {
                builder = builder.WithCorrelationData(entry.Message.CorrelationData.ToArray());
            }

            try
            {
                MqttClientPublishResult result = await _client.PublishAsync(builder.Build(), ct).ConfigureAwait(false);
                if (!result.IsSuccess)
                {
                    // The broker acknowledged and refused it (e.g. not authorised): retrying cannot help.
                    _logger.LogError("MQTT: broker refused answer {Sequence} on {Topic}: {Code} {Reason}; dropped.",
                        entry.Sequence, entry.Message.Topic, result.ReasonCode, result.ReasonString);
                }

                _outbox.Acknowledge(entry.Sequence);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Not acknowledged: it stays at the head of the outbox and goes again after the reconnect.
                _logger.LogDebug("MQTT: answer {Sequence} not acknowledged ({Message}); retrying after reconnect.", entry.Sequence, ex.Message);
                try
                {
                    await Task.Delay(_retryDelay, _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }
}
