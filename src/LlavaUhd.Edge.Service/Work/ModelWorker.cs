using System.Diagnostics;
using System.Threading.Channels;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Service.Frames;
using LlavaUhd.Edge.Service.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>
/// The bounded queue in front of one model and the worker that drains it. <see cref="TryEnqueue"/> never waits:
/// when <c>Service:QueueDepth</c> items are waiting it returns false and the caller answers "busy" (MQTT) or skips
/// the trigger (standing questions), so overload turns into refusals, not memory. One failing item fails only itself.
/// The worker takes the items waiting together (up to <c>Service:MaxBatch</c>), encodes them with one
/// <see cref="IVisionLanguageModel.EncodeBatch"/> call, then answers each; when the batch fails to encode, each item
/// is encoded on its own, so only a bad item fails.
/// </summary>
internal sealed class ModelWorker : IHostedService, IDisposable
{
    private readonly IVisionLanguageModel _model;
    private readonly FrameStore _frames;
    private readonly LatencyStats _stats;
    private readonly EdgeMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly Channel<WorkItem> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly int _capacity;
    private Task? _loop;
    private int _depth;
    private int _maxDepth;
    private long _completed;
    private long _failed;
    private long _batches;
    private long _batchedItems;
    private readonly int _maxBatch;

    /// <param name="maxBatch">The most waiting items encoded together (<c>Service:MaxBatch</c>).</param>
    /// <param name="metrics">The <c>/metrics</c> instruments the stage times also go to (docs/http.md); null: only <paramref name="stats"/>.</param>
    public ModelWorker(IVisionLanguageModel model, FrameStore frames, LatencyStats stats, int queueDepth, ILogger<ModelWorker> logger, int maxBatch = 4, EdgeMetrics? metrics = null)
    {
        _metrics = metrics;
        _maxBatch = Math.Max(1, maxBatch);
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

    /// <summary>Batches of more than one item encoded with one <c>EncodeBatch</c> call, and the items in them.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    public long BatchedItems => Interlocked.Read(ref _batchedItems);

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
        var batch = new List<WorkItem>(_maxBatch);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!reader.TryRead(out WorkItem? first))
                {
                    if (!reader.WaitToReadAsync(ct).AsTask().GetAwaiter().GetResult())
                    {
                        return;
                    }

                    continue;
                }

                // Items that wait together are encoded together (up to Service:MaxBatch), then answered one by one.
                batch.Add(first);
                while (batch.Count < _maxBatch && reader.TryRead(out WorkItem? next))
                {
                    batch.Add(next);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                ProcessBatch(batch, ct);
            }
            finally
            {
                foreach (WorkItem item in batch)
                {
                    Interlocked.Decrement(ref _depth);
                    item.Dispose();
                }

                batch.Clear();
            }
        }
    }

    private void ProcessBatch(List<WorkItem> batch, CancellationToken ct)
    {
        int n = batch.Count;
        double[] queueMs = new double[n];
        int live = 0;
        for (int i = 0; i < n; i++)
        {
            queueMs[i] = Stopwatch.GetElapsedTime(batch[i].EnqueuedAt).TotalMilliseconds;
            if (batch[i].Cancellation.IsCancellationRequested)
            {
                batch[i].Cancel();
            }
            else
            {
                live++;
            }
        }

        IReadOnlyList<VisualTokens>? tokens = null;
        double encodeShareMs = 0;
        int[]? slot = null;   // item index → request index in the batch (-1: cancelled before it)
        if (live > 1)
        {
            var requests = new EncodeRequest[live];
            slot = new int[n];
            for (int i = 0, j = 0; i < n; i++)
            {
                slot[i] = batch[i].Cancellation.IsCancellationRequested ? -1 : j;
                if (slot[i] >= 0)
                {
                    requests[j++] = Request(batch[i]);
                }
            }

            long start = Stopwatch.GetTimestamp();
            try
            {
                tokens = _model.EncodeBatch(requests, ct);
                if (tokens.Count != live)
                {
                    throw new InvalidOperationException($"EncodeBatch returned {tokens.Count} results for {live} requests.");
                }

                encodeShareMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds / live;
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _batchedItems, live);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                tokens = null;
            }
            catch (Exception ex)
            {
                // One bad item must not fail the others: encode them one by one, so only the bad one fails.
                _logger.LogWarning("Model: a batch of {Count} failed to encode ({Message}); encoding them one by one.", live, ex.Message);
                tokens = null;
            }
        }

        for (int i = 0; i < n; i++)
        {
            if (slot is null || slot[i] >= 0 || !batch[i].Cancellation.IsCancellationRequested)
            {
                VisualTokens? encoded = tokens is not null && slot is not null && slot[i] >= 0 ? tokens[slot[i]] : null;
                Process(batch[i], queueMs[i], encoded, encoded is null ? 0 : encodeShareMs, ct);
            }
        }
    }

    private static EncodeRequest Request(WorkItem item)
    {
        var frame = item.Frame.Frame;
        return new EncodeRequest(frame.Pixels.Crop(item.Roi))
        {
            Profile = item.Profile,
            Camera = frame.CameraId,
            RoiInFrame = item.Roi,
            FrameTime = frame.Timestamp,
            FrameSequence = frame.Sequence,
        };
    }

    /// <param name="encoded">The item's tokens from a batch; null: encode it here.</param>
    /// <param name="encodedMs">The item's share of the batch's encode time.</param>
    private void Process(WorkItem item, double queueMs, VisualTokens? encoded, double encodedMs, CancellationToken ct)
    {
        if (item.Cancellation.IsCancellationRequested)
        {
            item.Cancel();
            return;
        }

        CancellationTokenSource? linked = null;
        try
        {
            // No linked source (an allocation and a registration) when the item cannot be cancelled on its own.
            CancellationToken token = ct;
            if (item.Cancellation.CanBeCanceled)
            {
                linked = CancellationTokenSource.CreateLinkedTokenSource(ct, item.Cancellation);
                token = linked.Token;
            }

            var frame = item.Frame.Frame;
            long start = Stopwatch.GetTimestamp();
            VisualTokens tokens = encoded ?? _model.Encode(Request(item), token);
            if (item.EncodeOnly)
            {
                double encodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds + encodedMs;
                RecordStage("queue", queueMs);
                RecordStage("preprocess", tokens.Timings.PreprocessMs);
                RecordStage("encode", tokens.Timings.EncodeMs);
                RecordStage("model", encodeMs);
                Interlocked.Increment(ref _completed);
                RememberPlan(frame.CameraId, tokens, item);
                item.Complete(new EncodeResult(tokens, queueMs, encodeMs));
                return;
            }

            VlmAnswer answer = _model.Answer(tokens, new GenerationRequest(item.Question) { MaxNewTokens = item.MaxNewTokens, AnswerType = item.AnswerType }, null, token);
            double modelMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds + encodedMs;
            RecordStage("queue", queueMs);
            RecordStage("preprocess", answer.Timings.PreprocessMs);
            RecordStage("encode", answer.Timings.EncodeMs);
            RecordStage("prefill", answer.Timings.PrefillMs);
            RecordStage("decode", answer.Timings.DecodeMs);
            RecordStage("model", modelMs);
            _stats.RecordTokensPerSecond(answer.Timings.DecodeTokensPerSecond);
            _metrics?.RecordGeneratedTokens(answer.Tokens.Generated);
            Interlocked.Increment(ref _completed);
            if (_frames.TryGet(frame.CameraId, out CameraFrames? frames))
            {
                frames!.Remember(item.Frame);
            }

            RememberPlan(frame.CameraId, tokens, item);

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
        finally
        {
            linked?.Dispose();
        }
    }

    private void RecordStage(string stage, double ms)
    {
        _stats.Record(stage, ms);
        _metrics?.RecordStage(stage, ms);
    }

    /// <summary>The slice plan of the camera's last answer, for the snapshot overlay (docs/http.md).</summary>
    private void RememberPlan(string camera, VisualTokens tokens, WorkItem item)
    {
        if (_frames.TryGet(camera, out CameraFrames? frames))
        {
            frames!.LastAnswer = new AnsweredPlan(tokens.Plan, item.Roi, item.Frame.Frame.Sequence);
        }
    }

    public void Dispose() => _stopping.Dispose();
}
