using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// Binary payloads that go to the broker at once and are awaited, neither queued nor through the outbox (they are
/// large and only the latest matters, docs/mqtt.md, "Topic tree"): a camera's snapshot JPEG (retained, QoS 0, MQTT 5
/// content type <c>image/jpeg</c>) and the split-inference token packets (QoS 1, MQTT 5 content type and user
/// properties; src/LlavaUhd.Edge.Messaging/README.md, "Token packets"). Each is false when not connected or not sent,
/// with a log line; the caller's next trigger brings a fresh one. Composed into <see cref="EdgeMqttClient"/>.
/// </summary>
internal sealed class BinaryPublisher(IMqttClient client, bool v5, ILogger logger)
{
    private readonly IMqttClient _client = client;
    private readonly bool _v5 = v5;
    private readonly ILogger _logger = logger;

    /// <summary>Publishes <paramref name="jpeg"/>, <paramref name="camera"/>'s snapshot, retained at QoS 0 on <paramref name="topic"/>.</summary>
    public async Task<bool> PublishSnapshotAsync(string topic, string camera, byte[] jpeg, CancellationToken cancellationToken)
    {
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

    /// <summary>Publishes <paramref name="packet"/>, <paramref name="camera"/>'s token packet, at QoS 1 on <paramref name="topic"/> (3.1.1: the payload alone).</summary>
    public async Task<bool> PublishTokensAsync(string topic, string camera, byte[] packet, string contentType, IReadOnlyList<KeyValuePair<string, string>> properties, CancellationToken cancellationToken)
    {
        if (!_client.IsConnected)
        {
            return false;
        }

        MqttApplicationMessageBuilder builder = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
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
}
