using System.Buffers;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Options;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// Everything that arrives on the device's connection, on the receive thread: messages on an extra subscription (the
/// decoder role's token packets) go to their handler as they are; the rest is classified by topic, checked against
/// <c>Mqtt:MaxPayloadBytes</c> before it is copied, parsed (<see cref="QuestionParser"/>) and queued — settings to the
/// <see cref="SettingsWorker"/>, questions to the <see cref="QuestionWorkers"/> — or refused through
/// <see cref="ErrorReplies"/> (docs/mqtt.md, "Errors on requests"; a full queue is an immediate <c>busy</c>). A question
/// is acknowledged to the broker only once it is answered or refused (docs/mqtt.md, "Delivery guarantees"); every
/// other message at once. <see cref="Filters"/> are the subscriptions this needs. Composed into
/// <see cref="EdgeMqttClient"/>.
/// </summary>
internal sealed class InboundRouter(
    MqttTopics topics,
    MqttOptions options,
    QuestionParser parser,
    QuestionWorkers questions,
    SettingsWorker settings,
    ErrorReplies errors,
    ILogger logger)
{
    private readonly MqttTopics _topics = topics;
    private readonly MqttOptions _options = options;
    private readonly QuestionParser _parser = parser;
    private readonly QuestionWorkers _questions = questions;
    private readonly SettingsWorker _settings = settings;
    private readonly ErrorReplies _errors = errors;
    private readonly ILogger _logger = logger;
    private readonly List<(string Filter, Action<string, byte[]> Handler)> _raw = [];

    /// <summary>
    /// The topic filters to subscribe to (QoS 1, after every connect): the device's <c>ask</c> and <c>set</c> topics,
    /// the extra subscriptions, and the fleet's shared <c>ask</c> when <c>Mqtt:SharedSubscriptionGroup</c> is set.
    /// </summary>
    public IEnumerable<string> Filters
    {
        get
        {
            yield return _topics.AskFilter;
            yield return _topics.SetFilter;
            foreach ((string filter, _) in _raw)
            {
                yield return filter;
            }

            if (!string.IsNullOrEmpty(_options.SharedSubscriptionGroup))
            {
                yield return _topics.SharedAskFilter(_options.SharedSubscriptionGroup);
            }
        }
    }

    /// <summary>
    /// Hands each message on <paramref name="filter"/> to <paramref name="handler"/> (topic, payload) before any other
    /// handling and without the size limit. Not thread-safe: only before the client starts.
    /// </summary>
    public void Add(string filter, Action<string, byte[]> handler) => _raw.Add((filter, handler));

    /// <summary>The client's <c>ApplicationMessageReceivedAsync</c> handler.</summary>
    public Task OnMessageReceivedAsync(MqttApplicationMessageReceivedEventArgs e)
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

        if (!_topics.TryParse(message.Topic, out TopicAddress address))
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
            _errors.Reject(address.Camera, message.Topic, null, route,
                new RequestError(ErrorCodes.PayloadTooLarge, $"Payload of {payload.Length} bytes exceeds the limit of {_options.MaxPayloadBytes}."));
            return false;
        }

        ReadOnlySpan<byte> bytes = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        if (address.Kind == TopicKind.Set)
        {
            ParseResult<SettingChange> s = _parser.ParseSetting(address.Camera, address.Setting!, bytes, route);
            if (s.Value is null)
            {
                _errors.Reject(address.Camera, message.Topic, null, s.Reply, s.Error!);
            }
            else if (!_settings.TryEnqueue(s.Value))
            {
                _errors.Reject(address.Camera, message.Topic, null, s.Reply, new RequestError(ErrorCodes.Busy, "Too many setting changes pending."));
            }

            return false;
        }

        ParseResult<Question> r = _parser.ParseAsk(address.Camera, bytes, route, address.Kind == TopicKind.SharedAsk);
        if (r.Value is not Question parsed)
        {
            _errors.Reject(address.Camera, message.Topic, null, r.Reply, r.Error!);
            return false;
        }

        Question question = received is { AutoAcknowledge: false } ? parsed with { Received = received } : parsed;
        if (!_questions.TryEnqueue(question))
        {
            _errors.Reject(question.Camera, message.Topic, question.Id, question.Reply,
                new RequestError(ErrorCodes.Busy, $"The question queue is full ({_options.QuestionQueueCapacity}); try again later."));
            return false;
        }

        return question.Received is not null;
    }
}
