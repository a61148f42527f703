using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Outbox;
using LlavaUhd.Edge.Service.Work;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using CameraSnapshot = LlavaUhd.Edge.Capture.Sources.CameraStatus;

namespace LlavaUhd.Edge.Service.Hosting;

/// <summary>
/// Publishes the retained <c>status</c> (model, provider, engine build state, versions, cameras and their state) at
/// start and whenever it changes, and <c>stats</c> (latency per stage, tokens/s, memory, queue depth) every
/// <c>Mqtt:StatsIntervalSeconds</c>.
/// </summary>
internal sealed class StatusService : BackgroundService
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(500);

    private readonly ServiceInfo _info;
    private readonly IEdgePublisher _mqtt;
    private readonly AnswerOutbox _outbox;
    private readonly ModelWorker _worker;
    private readonly CaptureService _capture;
    private readonly QuestionService _questions;
    private readonly IReadOnlyDictionary<string, CameraRuntime> _cameras;
    private readonly LatencyStats _stats;
    private readonly TimeSpan _statsInterval;
    private readonly ILogger _logger;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private int _dirty = 1;

    public StatusService(
        ServiceInfo info,
        IEdgePublisher mqtt,
        AnswerOutbox outbox,
        ModelWorker worker,
        CaptureService capture,
        QuestionService questions,
        IReadOnlyDictionary<string, CameraRuntime> cameras,
        LatencyStats stats,
        int statsIntervalSeconds,
        ILogger<StatusService> logger)
    {
        _info = info;
        _mqtt = mqtt;
        _outbox = outbox;
        _worker = worker;
        _capture = capture;
        _questions = questions;
        _cameras = cameras;
        _stats = stats;
        _statsInterval = TimeSpan.FromSeconds(statsIntervalSeconds);
        _logger = logger;
    }

    public StatusMessage Status()
    {
        Dictionary<string, CameraSnapshot> states = _capture.Statuses.ToDictionary(s => s.CameraId, StringComparer.Ordinal);
        return new StatusMessage
        {
            Device = _info.DeviceId,
            Timestamp = DateTimeOffset.UtcNow,
            Model = _worker.Model.ModelId,
            Provider = _worker.Model.Provider,
            EngineState = _info.EngineState(),
            Versions = _info.Versions,
            Cameras = [.. _cameras.Values.Select(c =>
            {
                StandingQuestion? q = c.Primary;
                return new CameraStatus
                {
                    Id = c.Id,
                    Enabled = c.Enabled,
                    Question = q?.Question,
                    IntervalS = q is { IsInterval: true } ? q.IntervalSeconds : null,
                    State = states.TryGetValue(c.Id, out CameraSnapshot? s)
                        ? (s.Reason is null ? s.State.ToString().ToLowerInvariant() : $"{s.State.ToString().ToLowerInvariant()}: {s.Reason}")
                        : null,
                };
            })],
        };
    }

    public StatsMessage Stats()
    {
        ProcessMemory memory = ProcessMemory.Read();
        return new StatsMessage
        {
            Device = _info.DeviceId,
            Timestamp = DateTimeOffset.UtcNow,
            UptimeS = Math.Round((DateTimeOffset.UtcNow - _started).TotalSeconds, 1),
            Latency = _stats.Snapshot(),
            TokensPerSecond = Math.Round(_stats.TokensPerSecond, 2),
            RssBytes = memory.RssBytes,
            PeakRssBytes = memory.PeakRssBytes,
            ManagedHeapBytes = GC.GetGCMemoryInfo().HeapSizeBytes,
            QueueDepth = _worker.Depth,
            QuestionsAnswered = _worker.Completed,
            QuestionsRejected = _mqtt.QuestionsRejected,
            OutboxPending = _outbox.PendingCount,
        };
    }

    /// <summary>Every camera's settings as retained <c>…/state</c> (sent now and after every reconnect): the retained state tells what runs, restored settings included.</summary>
    private async Task PublishSettingStatesAsync(CancellationToken ct)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach (CameraRuntime camera in _cameras.Values)
        {
            await _mqtt.PublishSettingStateAsync(new SettingState { Camera = camera.Id, Setting = "enable", Enabled = camera.Enabled, Timestamp = now }, ct).ConfigureAwait(false);
            if (camera.Primary is { } q)
            {
                await _mqtt.PublishSettingStateAsync(new SettingState { Camera = camera.Id, Setting = "question", Question = q.Question, AnswerType = q.AnswerType?.Name, Timestamp = now }, ct).ConfigureAwait(false);
                if (q.IsInterval)
                {
                    await _mqtt.PublishSettingStateAsync(new SettingState { Camera = camera.Id, Setting = "interval", IntervalS = q.IntervalSeconds, Timestamp = now }, ct).ConfigureAwait(false);
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await PublishSettingStatesAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning("Status: setting states not published now ({Message}); they go out on the next connection.", ex.Message);
        }

        _capture.CameraStateChanged += MarkDirty;
        _questions.SettingsChanged += MarkDirty;
        DateTimeOffset nextStats = DateTimeOffset.UtcNow + _statsInterval;
        try
        {
            using var timer = new PeriodicTimer(s_poll);
            do
            {
                try
                {
                    if (Interlocked.Exchange(ref _dirty, 0) == 1)
                    {
                        await _mqtt.PublishStatusAsync(Status(), stoppingToken).ConfigureAwait(false);
                    }

                    if (DateTimeOffset.UtcNow >= nextStats)
                    {
                        nextStats = DateTimeOffset.UtcNow + _statsInterval;
                        await _mqtt.PublishStatsAsync(Stats(), stoppingToken).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception ex)
                {
                    _logger.LogWarning("Status: publishing failed ({Message}); retrying.", ex.Message);
                    Volatile.Write(ref _dirty, 1);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _capture.CameraStateChanged -= MarkDirty;
            _questions.SettingsChanged -= MarkDirty;
        }
    }

    private void MarkDirty(object? sender, object? e) => Volatile.Write(ref _dirty, 1);
}
