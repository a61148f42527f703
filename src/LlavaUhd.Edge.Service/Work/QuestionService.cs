using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Errors;
using LlavaUhd.Edge.Service.Frames;
using LlavaUhd.Edge.Service.Options;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>
/// Questions and settings from MQTT: a question goes to its camera's latest frame (or the answered frame it
/// references) through the model's bounded queue; a full queue is an immediate "busy". Settings change a camera's
/// enable flag and its primary standing question.
/// </summary>
internal sealed class QuestionService : IQuestionHandler, ISettingsHandler
{
    private readonly IReadOnlyDictionary<string, CameraRuntime> _cameras;
    private readonly FrameStore _frames;
    private readonly ModelWorker _worker;
    private readonly AnswerCounter _counter;
    private readonly CompressionProfile _profile;
    private readonly int _maxNewTokens;
    private readonly TimeSpan _frameWait;
    private readonly bool _encoderRole;
    private readonly ILogger _logger;
    private readonly PersistedSettings? _settings;

    public QuestionService(
        IReadOnlyDictionary<string, CameraRuntime> cameras,
        FrameStore frames,
        ModelWorker worker,
        AnswerCounter counter,
        EdgeConfiguration config,
        ILogger<QuestionService> logger,
        PersistedSettings? settings = null)
    {
        _settings = settings;
        _cameras = cameras;
        _frames = frames;
        _worker = worker;
        _counter = counter;
        _profile = config.Inference.ParsedProfile;
        _maxNewTokens = config.Inference.MaxNewTokens;
        _frameWait = TimeSpan.FromMilliseconds(config.Service.FrameWaitMs);
        _encoderRole = config.Service.IsEncoder;
        _logger = logger;
    }

    /// <summary>Raised after a setting was applied (the status changes).</summary>
    public event EventHandler? SettingsChanged;

    public async ValueTask<QuestionAnswer> AnswerAsync(Question question, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        CameraRuntime camera = _cameras[question.Camera];
        if (_worker.Model.CheckQuestion(question.Text) is { } problem)
        {
            throw new RequestRejectedException(problem.Code, problem.Message);
        }

        if (_encoderRole)
        {
            throw new RequestRejectedException(ErrorCodes.Rejected, $"This device runs as an encoder (Service:Role = encoder): it publishes tokens on …/{camera.Id}/tokens and does not answer; ask the decoder device.");
        }

        if (!camera.Enabled)
        {
            throw new RequestRejectedException(ErrorCodes.Rejected, $"Camera '{camera.Id}' is disabled (…/{camera.Id}/enable/set true enables it).");
        }

        CameraFrames frames = _frames[question.Camera];
        FrameLease? lease = question.Frame is long seq
            ? frames.TryAnswered(seq) ?? throw new RequestRejectedException(ErrorCodes.InvalidField, $"frame {seq} of camera '{camera.Id}' is not held any more (only the latest frame and the last answered ones are).")
            : await frames.LatestAsync(_frameWait, cancellationToken).ConfigureAwait(false)
                ?? throw new RequestRejectedException(ErrorCodes.Rejected, $"Camera '{camera.Id}' has no frame yet.");

        WorkItem item;
        try
        {
            PixelSize size = new(lease.Frame.Width, lease.Frame.Height);
            PixelRect? requested = question.Roi?.ToPixelRect();
            if (requested is { } r && (r.X + r.Width > size.Width || r.Y + r.Height > size.Height))
            {
                throw new RequestRejectedException(ErrorCodes.InvalidField, $"roi {r.X},{r.Y},{r.Width}x{r.Height} lies outside the {size.Width}x{size.Height} frame.");
            }

            PixelRect roi = requested ?? new PixelRect(0, 0, size.Width, size.Height);
            item = new WorkItem(lease, roi, question.Text, _profile, question.MaxTokens ?? (_maxNewTokens > 0 ? _maxNewTokens : null), "mqtt", completeInline: true)
            {
                Cancellation = cancellationToken,
                AnswerType = question.AnswerType,
            };
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        if (!_worker.TryEnqueue(item))
        {
            item.Dispose();
            throw new RequestRejectedException(ErrorCodes.Busy, $"The model's queue is full ({_worker.Capacity} waiting); try again later.");
        }

        WorkResult result = await item.Completion.ConfigureAwait(false);
        if (!_counter.TryTake())
        {
            throw new RequestRejectedException(ErrorCodes.Rejected, "The service is stopping (--max-answers reached).");
        }

        _logger.LogInformation(
            "Answer {Camera} [mqtt {Id}] frame #{Frame}: {Question} → {Answer} ({Tokens} tokens, {Stop}; model {ModelMs:0.0} ms, queue {QueueMs:0.0} ms)",
            question.Camera, LogText.Quote(question.Id), result.FrameSequence, LogText.Quote(question.Text), LogText.Quote(result.Answer.Text), result.Answer.Tokens.Generated, result.Answer.StopReason.ToName(), result.ModelMs, result.QueueMs);
        return ToQuestionAnswer(result, item.Roi);
    }

    public ValueTask<RequestError?> ApplyAsync(SettingChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        CameraRuntime camera = _cameras[change.Camera];
        StandingQuestion? primary = camera.Primary;
        switch (change.Setting)
        {
            case CameraSetting.Enable:
                camera.Enabled = change.Enabled ?? camera.Enabled;
                break;
            case CameraSetting.Question when primary is not null && _worker.Model.CheckQuestion(change.Question!) is { } problem:
                return ValueTask.FromResult<RequestError?>(new RequestError(problem.Code, problem.Message));
            case CameraSetting.Question when primary is not null:
                primary.Question = change.Question!;
                if (change.SetsAnswerType)
                {
                    primary.AnswerType = change.AnswerType;
                    primary.AnswerTypeSetAtRuntime = true;
                }

                break;
            case CameraSetting.Interval when primary is not null && primary.IsInterval:
                primary.IntervalSeconds = change.IntervalS!.Value;
                primary.Due = 0;
                break;
            case CameraSetting.Interval when primary is not null:
                return ValueTask.FromResult<RequestError?>(new RequestError(ErrorCodes.Rejected, $"The standing question '{primary.Name}' of camera '{camera.Id}' fires on trigger '{primary.Trigger}', not on an interval."));
            default:
                return ValueTask.FromResult<RequestError?>(new RequestError(ErrorCodes.Rejected, $"Camera '{camera.Id}' has no standing question to change; configure one in Service:Questions."));
        }

        _logger.LogInformation("Setting {Camera}/{Setting} = {Value}", change.Camera, change.SettingName, (object?)change.Enabled ?? (object?)change.Question ?? change.IntervalS);
        try
        {
            _settings?.Save(_cameras);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // applied but not kept: say so (the retained state shows it until the next restart)
            _logger.LogError("Setting {Camera}/{Setting}: applied, but {File} could not be written ({Message}); it is lost on restart.", change.Camera, change.SettingName, _settings?.FilePath, ex.Message);
        }

        SettingsChanged?.Invoke(this, EventArgs.Empty);
        return ValueTask.FromResult<RequestError?>(null);
    }

    public string? AnswerTypeOf(string camera) =>
        _cameras.TryGetValue(camera, out CameraRuntime? runtime) ? runtime.Primary?.AnswerType?.Name : null;

    public static QuestionAnswer ToQuestionAnswer(WorkResult result, PixelRect roi)
    {
        VlmAnswer a = result.Answer;
        return new QuestionAnswer
        {
            Answer = a.Text,
            Value = a.Value,
            Model = a.Model,
            FrameTimestamp = result.FrameTime,
            FrameSequence = result.FrameSequence,
            Roi = RoiRect.From(roi),
            PromptTokens = a.Tokens.Prompt,
            CompletionTokens = a.Tokens.Generated,
            VisualTokens = a.Tokens.VisualKept,
            Timings = Timings(result),
        };
    }

    public static AnswerTimings Timings(WorkResult result)
    {
        StageTimings t = result.Answer.Timings;
        return new AnswerTimings
        {
            QueueMs = Math.Round(result.QueueMs, 3),
            PreprocessMs = Math.Round(t.PreprocessMs, 3),
            EncodeMs = Math.Round(t.EncodeMs + t.CompressMs, 3),
            PrefillMs = Math.Round(t.PrefillMs, 3),
            DecodeMs = Math.Round(t.DecodeMs, 3),
            TotalMs = Math.Round(result.ModelMs, 3),   // wall time inside the model, encode + answer
        };
    }
}
