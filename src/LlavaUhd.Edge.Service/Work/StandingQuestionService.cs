using System.Diagnostics;
using LlavaUhd.Edge.Capture.Triggers;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Errors;
using LlavaUhd.Edge.Service.Frames;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>
/// Asks the standing questions: interval questions from a scheduler loop (their interval can change at runtime),
/// the others when their named trigger (GPIO, PIR, interval trigger of the <c>Triggers</c> section) fires. Each asks
/// about its camera's latest frame; when the model's queue is full or the question's previous answer is still being
/// made, this firing is skipped (counted), never queued without bound. Answers go to the log and to MQTT.
/// </summary>
internal sealed class StandingQuestionService : BackgroundService
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(50);

    private readonly IReadOnlyDictionary<string, CameraRuntime> _cameras;
    private readonly FrameStore _frames;
    private readonly ModelWorker _worker;
    private readonly IEdgePublisher _mqtt;
    private readonly AnswerCounter _counter;
    private readonly IReadOnlyList<Trigger> _triggers;
    private readonly IReadOnlyList<GpioOutput> _outputs;
    private readonly string _device;
    private readonly ILogger _logger;
    private readonly TokenPublisher? _tokens;
    private long _published;
    private long _failed;

    public StandingQuestionService(
        IReadOnlyDictionary<string, CameraRuntime> cameras,
        FrameStore frames,
        ModelWorker worker,
        IEdgePublisher mqtt,
        AnswerCounter counter,
        IReadOnlyList<Trigger> triggers,
        IReadOnlyList<GpioOutput> outputs,
        string deviceId,
        ILogger<StandingQuestionService> logger,
        TokenPublisher? tokens = null)
    {
        _tokens = tokens;
        _cameras = cameras;
        _frames = frames;
        _worker = worker;
        _mqtt = mqtt;
        _counter = counter;
        _triggers = triggers;
        _outputs = outputs;
        _device = deviceId;
        _logger = logger;
    }

    public long Published => Interlocked.Read(ref _published);

    public long Failed => Interlocked.Read(ref _failed);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (Trigger t in _triggers)
        {
            t.Fired += OnTriggerFired;
        }

        try
        {
            using var timer = new PeriodicTimer(s_tick);
            do
            {
                long now = Stopwatch.GetTimestamp();
                foreach (CameraRuntime camera in _cameras.Values)
                {
                    foreach (StandingQuestion q in camera.Questions)
                    {
                        if (q.IsInterval && now >= q.Due)
                        {
                            if (Fire(camera, q, stoppingToken))
                            {
                                q.Due = now + (long)(q.IntervalSeconds * Stopwatch.Frequency);
                            }
                        }
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            foreach (Trigger t in _triggers)
            {
                t.Fired -= OnTriggerFired;
            }
        }
    }

    private void OnTriggerFired(object? sender, TriggerEvent e)
    {
        foreach (CameraRuntime camera in _cameras.Values)
        {
            // A motion trigger fires for the camera it saw motion on, about the motion box.
            if (e.Kind == TriggerKind.Motion && e.CameraId is not null && e.CameraId != camera.Id)
            {
                continue;
            }

            foreach (StandingQuestion q in camera.Questions)
            {
                if (q.Trigger == e.TriggerName)
                {
                    Fire(camera, q, CancellationToken.None, e.Roi);
                }
            }
        }
    }

    /// <summary>Asks <paramref name="q"/> now; false when there was nothing to ask about yet (no frame), so the interval retries soon.</summary>
    /// <param name="region">The trigger's region (a motion box) instead of the question's own ROI or zone.</param>
    private bool Fire(CameraRuntime camera, StandingQuestion q, CancellationToken ct, PixelRect? region = null)
    {
        if (!camera.Enabled || !q.Enabled)
        {
            return true;
        }

        FrameLease? lease = _frames[camera.Id].TryLatest();
        if (lease is null)
        {
            return false;
        }

        if (!q.TryBegin())
        {
            lease.Dispose();
            Interlocked.Increment(ref q.Skipped);
            return true;
        }

        var size = new PixelSize(lease.Frame.Width, lease.Frame.Height);
        PixelRect? roi = region is not null ? CameraRuntime.Clip(region, size) : camera.RegionOf(q, size);
        if (roi is null)
        {
            _logger.LogWarning("Standing question {Name}: its region lies outside the {Width}x{Height} frame of {Camera}.", q.Name, lease.Frame.Width, lease.Frame.Height, camera.Id);
            lease.Dispose();
            q.End();
            return true;
        }

        string text = q.Question;
        AnswerType? type = q.AnswerType;
        var item = new WorkItem(lease, roi.Value, text, q.Profile, q.MaxNewTokens, q.Name) { Cancellation = ct, EncodeOnly = _tokens is not null, AnswerType = type };
        if (!_worker.TryEnqueue(item))
        {
            item.Dispose();
            q.End();
            Interlocked.Increment(ref q.Skipped);
            _logger.LogDebug("Standing question {Name} skipped: the model's queue is full.", q.Name);
            return true;
        }

        _ = _tokens is null ? CompleteAsync(camera, q, item, text) : PublishTokensAsync(_tokens, camera, q, item);
        return true;
    }

    /// <summary>Encoder role: the trigger's tokens go out as a packet instead of an answer.</summary>
    private async Task PublishTokensAsync(TokenPublisher tokens, CameraRuntime camera, StandingQuestion q, WorkItem item)
    {
        try
        {
            EncodeResult result = await item.Encoded.ConfigureAwait(false);
            if (await tokens.PublishAsync(camera.Id, q.Name, result).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _published);
            }
            else
            {
                Interlocked.Increment(ref _failed);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            // Logged by the worker with its stack; one failing frame never stops the service.
            Interlocked.Increment(ref _failed);
            _logger.LogDebug(ex, "Standing question {Name}: encoding failed.", q.Name);
        }
        finally
        {
            q.End();
        }
    }

    private async Task CompleteAsync(CameraRuntime camera, StandingQuestion q, WorkItem item, string text)
    {
        try
        {
            WorkResult result = await item.Completion.ConfigureAwait(false);
            if (!_counter.TryTake())
            {
                return;
            }

            var answer = new AnswerMessage
            {
                Id = Guid.CreateVersion7().ToString("N"),
                QuestionId = q.Name,
                Device = _device,
                Camera = camera.Id,
                FrameTimestamp = result.FrameTime,
                FrameSequence = result.FrameSequence,
                AnswerTimestamp = DateTimeOffset.UtcNow,
                Roi = RoiRect.From(item.Roi),
                Question = text,
                Answer = result.Answer.Text,
                AnswerType = item.AnswerType?.Name,
                Value = result.Answer.Value,
                PromptTokens = result.Answer.Tokens.Prompt,
                CompletionTokens = result.Answer.Tokens.Generated,
                VisualTokens = result.Answer.Tokens.VisualKept,
                Timings = QuestionService.Timings(result),
                Model = result.Answer.Model,
            };
            _mqtt.PublishAnswer(answer);
            Interlocked.Increment(ref _published);
            _logger.LogInformation(
                "Answer {Camera} [{Name}] frame #{Frame}: {Question} → {Answer}{Value} ({Tokens} tokens, {Stop}; model {ModelMs:0.0} ms, queue {QueueMs:0.0} ms)",
                camera.Id, q.Name, result.FrameSequence, LogText.Quote(text), LogText.Quote(result.Answer.Text),
                result.Answer.Value is { } value ? $" = {value.GetRawText()} ({item.AnswerType?.Name})" : string.Empty, result.Answer.Tokens.Generated, result.Answer.StopReason.ToName(), result.ModelMs, result.QueueMs);
            foreach (GpioOutput output in _outputs)
            {
                output.Apply(result.Answer.Text);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (OutboxFullException ex)
        {
            Interlocked.Increment(ref _failed);
            _logger.LogError("Standing question {Name}: answer lost, {Message}", q.Name, ex.Message);
        }
        catch (Exception ex)
        {
            // Logged by the worker with its stack; one failing frame never stops the service.
            Interlocked.Increment(ref _failed);
            _logger.LogDebug(ex, "Standing question {Name} failed.", q.Name);
        }
        finally
        {
            q.End();
        }
    }
}
