using System.Diagnostics;
using System.Threading.Channels;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Service.Frames;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>
/// The bounded queue in front of one model and the worker that drains it. <see cref="TryEnqueue"/> never waits:
/// when <c>Service:QueueDepth</c> items are waiting it returns false and the caller answers "busy" (MQTT) or skips
/// the trigger (standing questions), so overload turns into refusals, not memory. One failing item fails only itself.
/// </summary>
internal sealed class ModelWorker : IHostedService, IDisposable
{
    private readonly IVisionLanguageModel _model;
    private readonly FrameStore _frames;
    private readonly LatencyStats _stats;
    private readonly ILogger _logger;
    private readonly Channel<WorkItem> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly int _capacity;
    private Task? _loop;
    private int _depth;
    private int _maxDepth;
    private long _completed;
    private long _failed;

    public ModelWorker(IVisionLanguageModel model, FrameStore frames, LatencyStats stats, int queueDepth, ILogger<ModelWorker> logger)
    {
        _model = model;
        _frames = frames;
        _stats = stats;
        _logger = logger;
        _capacity = queueDepth;
        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(queueDepth)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    public IVisionLanguageModel Model => _model;

    /// <summary>Items waiting or being answered.</summary>
    public int Depth => Volatile.Read(ref _depth);

    /// <summary>The most items seen waiting in the queue at once (never more than the queue depth).</summary>
    public int MaxDepth => Volatile.Read(ref _maxDepth);

    public int Capacity => _capacity;

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Queues <paramref name="item"/>; false (the caller still owns it) when the queue is full or stopping.</summary>
    public bool TryEnqueue(WorkItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        item.EnqueuedAt = WorkItem.Now();
        if (_stopping.IsCancellationRequested || !_queue.Writer.TryWrite(item))
        {
            return false;
        }

        Interlocked.Increment(ref _depth);

        // The channel's own count: items waiting, never more than the queue depth (the one being answered is not in it).
        int depth = _queue.Reader.Count;
        int max;
        while (depth > (max = Volatile.Read(ref _maxDepth)) && Interlocked.CompareExchange(ref _maxDepth, depth, max) != max)
        {
        }

        return true;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Factory.StartNew(() => Run(_stopping.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        while (_queue.Reader.TryRead(out WorkItem? left))
        {
            left.Cancel();
            left.Dispose();
        }
    }

    private void Run(CancellationToken ct)
    {
        ChannelReader<WorkItem> reader = _queue.Reader;
        while (!ct.IsCancellationRequested)
        {
            WorkItem? item;
            try
            {
                if (!reader.TryRead(out item))
                {
                    if (!reader.WaitToReadAsync(ct).AsTask().GetAwaiter().GetResult())
                    {
                        return;
                    }

                    continue;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                Process(item, ct);
            }
            finally
            {
                Interlocked.Decrement(ref _depth);
                item.Dispose();
            }
        }
    }

    private void Process(WorkItem item, CancellationToken ct)
    {
        double queueMs = Stopwatch.GetElapsedTime(item.EnqueuedAt).TotalMilliseconds;
        if (item.Cancellation.IsCancellationRequested)
        {
            item.Cancel();
            return;
        }

        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, item.Cancellation);
            var frame = item.Frame.Frame;
            var request = new EncodeRequest(frame.Pixels.Crop(item.Roi))
            {
                Profile = item.Profile,
                Camera = frame.CameraId,
                RoiInFrame = item.Roi,
                FrameTime = frame.Timestamp,
                FrameSequence = frame.Sequence,
            };
            long start = Stopwatch.GetTimestamp();
            VisualTokens tokens = _model.Encode(request, linked.Token);
            if (item.EncodeOnly)
            {
                double encodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                _stats.Record("queue", queueMs);
                _stats.Record("preprocess", tokens.Timings.PreprocessMs);
                _stats.Record("encode", tokens.Timings.EncodeMs);
                _stats.Record("model", encodeMs);
                Interlocked.Increment(ref _completed);
                item.Complete(new EncodeResult(tokens, queueMs, encodeMs));
                return;
            }

            VlmAnswer answer = _model.Answer(tokens, new GenerationRequest(item.Question) { MaxNewTokens = item.MaxNewTokens }, null, linked.Token);
            double modelMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            _stats.Record("queue", queueMs);
            _stats.Record("preprocess", answer.Timings.PreprocessMs);
            _stats.Record("encode", answer.Timings.EncodeMs);
            _stats.Record("prefill", answer.Timings.PrefillMs);
            _stats.Record("decode", answer.Timings.DecodeMs);
            _stats.Record("model", modelMs);
            _stats.RecordTokensPerSecond(answer.Timings.DecodeTokensPerSecond);
            Interlocked.Increment(ref _completed);
            if (_frames.TryGet(frame.CameraId, out CameraFrames? frames))
            {
                frames!.Remember(item.Frame);
            }

            item.Complete(new WorkResult(answer, queueMs, modelMs, frame.Sequence, frame.Timestamp));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested || item.Cancellation.IsCancellationRequested)
        {
            item.Cancel();
        }
        catch (Exception ex)
        {
            // One failing frame or request never stops the service: the item fails, the worker goes on.
            Interlocked.Increment(ref _failed);
            _logger.LogError(ex, "Model: {Origin} on {Camera} failed: {Message}", item.Origin, item.Camera, ex.Message);
            item.Fail(ex);
        }
    }

    public void Dispose() => _stopping.Dispose();
}
