using System.Threading.Channels;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Errors;
using LlavaUhd.Edge.Messaging.Options;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// The bounded question queue (<c>Mqtt:QuestionQueueCapacity</c>) and its <c>Mqtt:QuestionWorkers</c> readers
/// (src/LlavaUhd.Edge.Messaging/README.md, "Questions"): each worker hands a question to the
/// <see cref="IQuestionHandler"/>, makes the <see cref="AnswerMessage"/> and publishes it through <c>publishAnswer</c>
/// (the outbox), or refuses it through <see cref="ErrorReplies"/>. Only then is the question acknowledged to the broker
/// (docs/mqtt.md, "Delivery guarantees": answered or refused, at least once). Counts the answered and the busy
/// questions and the queue's depth. Composed into <see cref="EdgeMqttClient"/>; the <see cref="InboundRouter"/> fills
/// the queue.
/// </summary>
internal sealed class QuestionWorkers
{
    private readonly MqttOptions _options;
    private readonly MqttTopics _topics;
    private readonly Func<AnswerMessage, ReplyRoute?, long> _publishAnswer;
    private readonly ErrorReplies _errors;
    private readonly LogThrottle _rejectLog;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Question> _questions;
    private long _answered;
    private long _busy;
    private int _queueDepth;

    /// <param name="options">The validated MQTT options (queue capacity, workers, device id).</param>
    /// <param name="topics">The device's topics (a refusal names the question's <c>ask</c> topic).</param>
    /// <param name="publishAnswer">Stores an answer for publishing (the client's <see cref="EdgeMqttClient.PublishAnswer"/>).</param>
    /// <param name="errors">Where refusals go.</param>
    /// <param name="rejectLog">The refusals' log throttle, shared with <paramref name="errors"/>.</param>
    public QuestionWorkers(
        MqttOptions options,
        MqttTopics topics,
        Func<AnswerMessage, ReplyRoute?, long> publishAnswer,
        ErrorReplies errors,
        LogThrottle rejectLog,
        TimeProvider time,
        ILogger logger)
    {
        _options = options;
        _topics = topics;
        _publishAnswer = publishAnswer;
        _errors = errors;
        _rejectLog = rejectLog;
        _time = time;
        _logger = logger;
        _questions = Channel.CreateBounded<Question>(new BoundedChannelOptions(options.QuestionQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
        });
    }

    /// <summary>Questions answered (an answer went to the outbox).</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Questions refused because the queue (or the handler's own queue) was full.</summary>
    public long Busy => Interlocked.Read(ref _busy);

    /// <summary>Questions waiting for or inside the handler.</summary>
    public int QueueDepth => Volatile.Read(ref _queueDepth);

    /// <summary>Queues <paramref name="question"/>; false when the queue is full (counted as busy: the caller refuses it).</summary>
    public bool TryEnqueue(Question question)
    {
        Interlocked.Increment(ref _queueDepth);
        if (!_questions.Writer.TryWrite(question))
        {
            Interlocked.Decrement(ref _queueDepth);
            Interlocked.Increment(ref _busy);
            return false;
        }

        return true;
    }

    /// <summary>Runs the <c>Mqtt:QuestionWorkers</c> workers on <paramref name="handler"/> until <paramref name="ct"/> is cancelled.</summary>
    public Task RunAsync(IQuestionHandler handler, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var workers = new Task[_options.QuestionWorkers];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = Task.Run(() => QuestionLoopAsync(handler, ct), CancellationToken.None);
        }

        return Task.WhenAll(workers);
    }

    private async Task QuestionLoopAsync(IQuestionHandler handler, CancellationToken ct)
    {
        try
        {
            await foreach (Question question in _questions.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    QuestionAnswer a = await handler.AnswerAsync(question, ct).ConfigureAwait(false);
                    var answer = new AnswerMessage
                    {
                        Id = Guid.CreateVersion7().ToString("N"),
                        QuestionId = question.Id,
                        CorrelationId = question.Reply.CorrelationId,
                        Device = _options.DeviceId,
                        Camera = question.Camera,
                        FrameTimestamp = a.FrameTimestamp,
                        FrameSequence = a.FrameSequence,
                        AnswerTimestamp = _time.GetUtcNow(),
                        Roi = a.Roi ?? question.Roi,
                        Question = question.Text,
                        Answer = a.Answer,
                        AnswerType = question.AnswerType?.Name,
                        Value = a.Value,
                        PromptTokens = a.PromptTokens,
                        CompletionTokens = a.CompletionTokens,
                        VisualTokens = a.VisualTokens,
                        Timings = a.Timings,
                        Model = a.Model,
                    };
                    _publishAnswer(answer, question.Reply);
                    Interlocked.Increment(ref _answered);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    throw;
                }
                catch (RequestRejectedException ex)
                {
                    if (ex.Code == ErrorCodes.Busy)
                    {
                        Interlocked.Increment(ref _busy);
                    }

                    if (_rejectLog.Allow("refused:" + ex.Code, out int suppressed))
                    {
                        _logger.LogInformation("MQTT: question {Id} on {Camera} refused ({Code}): {Message}{More}", LogText.Quote(question.Id), question.Camera, ex.Code, LogText.Quote(ex.Message),
                            suppressed > 0 ? $" (and {suppressed} more refused {ex.Code} since the last line)" : string.Empty);
                    }
                    Reject(question, new RequestError(ex.Code, ex.Message));
                }
                catch (OutboxFullException ex)
                {
                    _logger.LogError("MQTT: answer to question {Id} lost: {Message}", question.Id, ex.Message);
                    Reject(question, new RequestError(ErrorCodes.Internal, "Outbox full; answer not stored."));
                }
                catch (Exception ex)
                {
                    _logger.LogError(ex, "MQTT: question {Id} on {Camera} failed.", question.Id, question.Camera);
                    Reject(question, new RequestError(ErrorCodes.Internal, ex.Message));
                }
                finally
                {
                    Interlocked.Decrement(ref _queueDepth);
                    if (question.Received is { } received)
                    {
                        try
                        {
                            await received.AcknowledgeAsync(CancellationToken.None).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            // the connection dropped meanwhile: the broker delivers the question again (at least once)
                            _logger.LogDebug("MQTT: acknowledging question {Id} failed: {Message}", LogText.Quote(question.Id), ex.Message);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Reject(Question question, RequestError error) =>
        _errors.Reject(question.Camera, _topics.Ask(question.Camera), question.Id, question.Reply, error);
}
