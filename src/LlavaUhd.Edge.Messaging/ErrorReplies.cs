using System.Text.Json;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Messaging.Contracts;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// Refusals at the boundary (docs/mqtt.md, "Errors on requests"): an <see cref="ErrorReply"/> to the request's
/// response topic (or <c>…/errors</c>) through the direct queue, with the MQTT 5 correlation data echoed, one log line
/// per error code per 10 s with the count held back, and the count of refusals. Composed into
/// <see cref="EdgeMqttClient"/>; the router, the question workers and the settings loop all refuse through it.
/// </summary>
internal sealed class ErrorReplies(MqttTopics topics, bool v5, DirectPublisher direct, LogThrottle rejectLog, TimeProvider time, ILogger logger)
{
    private readonly MqttTopics _topics = topics;
    private readonly bool _v5 = v5;
    private readonly DirectPublisher _direct = direct;
    private readonly LogThrottle _rejectLog = rejectLog;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private long _rejected;

    /// <summary>Requests refused so far.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Raised after each error reply was queued; handlers must be quick and must not throw.</summary>
    public event Action<ErrorReply>? Published;

    /// <summary>Refuses a request on <paramref name="topic"/> with <paramref name="error"/>, replying where <paramref name="route"/> says.</summary>
    public void Reject(string camera, string topic, string? questionId, ReplyRoute route, RequestError error)
    {
        Interlocked.Increment(ref _rejected);
        if (error.Code != ErrorCodes.Busy && _rejectLog.Allow(error.Code, out int suppressed))
        {
            // one line per error code per 10 s, with the count of those held back: a flood of bad input cannot flood the log
            _logger.LogWarning("MQTT: rejected request on {Topic}: {Code}: {Message}{More}", LogText.Quote(topic), error.Code, LogText.Quote(error.Message),
                suppressed > 0 ? $" (and {suppressed} more {error.Code} since the last line)" : string.Empty);
        }

        var reply = new ErrorReply
        {
            Error = error.Code,
            Message = error.Message,
            QuestionId = questionId,
            CorrelationId = route.CorrelationId,
            Camera = MqttTopics.IsValidSegment(camera) ? camera : null,
            Topic = topic,
            Timestamp = _time.GetUtcNow(),
        };
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(route.HasResponseTopic ? route.ResponseTopic : _topics.Errors)
            .WithPayload(JsonSerializer.SerializeToUtf8Bytes(reply, MessagingJsonContext.Default.ErrorReply))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithContentType("application/json");
        if (_v5 && route.CorrelationData is not null)
        {
            builder = builder.WithCorrelationData(route.CorrelationData);
        }

        if (!_direct.TryEnqueue(builder.Build()))
        {
            _logger.LogWarning("MQTT: reply queue full; error reply to {Topic} dropped.", topic);
        }

        Published?.Invoke(reply);
    }
}
