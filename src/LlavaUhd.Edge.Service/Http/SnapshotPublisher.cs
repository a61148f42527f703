using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Http;

/// <summary>
/// <c>Service:PublishSnapshots</c>: after each answer, the answered frame with the zones, the motion box and the slice
/// grid drawn on it goes out as a JPEG on <c>…/&lt;camera&gt;/snapshot</c> (retained, QoS 0; docs/http.md). The JPEG is
/// made off the answer's thread, at most one per camera at a time: an answer that arrives while its camera's previous
/// snapshot is still being made is not turned into one (counted in <c>llava_edge_snapshots_dropped_total</c>).
/// </summary>
internal sealed class SnapshotPublisher : IHostedService, IDisposable
{
    private readonly IEdgePublisher _mqtt;
    private readonly SnapshotRenderer _renderer;
    private readonly EdgeMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Dictionary<string, Slot> _slots;
    private readonly CancellationTokenSource _stopping = new();
    private long _published;

    public SnapshotPublisher(IEdgePublisher mqtt, SnapshotRenderer renderer, IEnumerable<string> cameras, EdgeMetrics metrics, ILogger<SnapshotPublisher> logger)
    {
        _mqtt = mqtt;
        _renderer = renderer;
        _metrics = metrics;
        _logger = logger;
        _slots = cameras.ToDictionary(c => c, _ => new Slot(), StringComparer.Ordinal);
    }

    /// <summary>Snapshots published.</summary>
    public long Published => Interlocked.Read(ref _published);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _mqtt.AnswerPublished += OnAnswer;
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _mqtt.AnswerPublished -= OnAnswer;
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] running = [.. _slots.Values.Select(s => Volatile.Read(ref s.Running)).OfType<Task>()];
        try
        {
            await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnAnswer(AnswerMessage answer)
    {
        if (!_slots.TryGetValue(answer.Camera, out Slot? slot) || _stopping.IsCancellationRequested)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref slot.Busy, 1, 0) != 0)
        {
            _metrics.RecordSnapshotDropped(answer.Camera);
            return;
        }

        Volatile.Write(ref slot.Running, Task.Run(() => PublishAsync(answer.Camera, answer.FrameSequence, slot)));
    }

    private async Task PublishAsync(string camera, long? sequence, Slot slot)
    {
        try
        {
            if (_renderer.TryRender(camera, SnapshotOverlays.Roi | SnapshotOverlays.Slices, sequence, out byte[]? jpeg) == SnapshotStatus.Ok
                && await _mqtt.PublishSnapshotAsync(camera, jpeg!, _stopping.Token).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _published);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // a snapshot is a convenience: its failure is logged, the answers go on
            _logger.LogWarning("Snapshot of {Camera} not published: {Type}: {Message}", camera, ex.GetType().Name, ex.Message);
        }
        finally
        {
            Volatile.Write(ref slot.Busy, 0);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private sealed class Slot
    {
        public int Busy;
        public Task? Running;
    }
}
