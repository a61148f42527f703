using System.Threading.Channels;
using LlavaUhd.Edge.Capture.Errors;
using LlavaUhd.Edge.Core.Capture;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>
/// Runs one camera: a dedicated grab thread opens the source, reads frames into pooled buffers and publishes only
/// the latest (an unread frame is dropped and its buffer reused when a newer one arrives; nothing queues without
/// bound). When opening or reading fails it reports <see cref="CameraState.Failed"/> with the reason and retries
/// after an exponential back-off (<see cref="CameraOptions.InitialBackoffMs"/> doubling up to
/// <see cref="CameraOptions.MaxBackoffMs"/>, reset after a frame arrives). A failing camera never affects others.
/// </summary>
public sealed class CameraSupervisor : IDisposable
{
    private readonly CameraOptions _options;
    private readonly Func<CameraOptions, ICameraSource> _factory;
    private readonly TimeProvider _time;
    private readonly Channel<Frame> _latest;
    private readonly FrameBufferPool _pool = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _statusLock = new();
    private Thread? _thread;
    private CameraStatus _status;
    private long _grabbed;
    private long _dropped;
    private int _reconnects;

    public CameraSupervisor(CameraOptions options, Func<CameraOptions, ICameraSource>? sourceFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _factory = sourceFactory ?? CameraSourceFactory.Create;
        _time = timeProvider ?? TimeProvider.System;
        _latest = Channel.CreateBounded<Frame>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
            dropped =>
            {
                Interlocked.Increment(ref _dropped);
                dropped.Dispose();
            });
        _status = new CameraStatus(options.Id, CameraState.Stopped, null, 0, null, 0, 0, 0, _time.GetUtcNow());
    }

    public string CameraId => _options.Id;

    public CameraOptions Options => _options;

    public CameraStatus Status
    {
        get
        {
            lock (_statusLock)
            {
                return _status with { FramesGrabbed = Interlocked.Read(ref _grabbed), FramesDropped = Interlocked.Read(ref _dropped) };
            }
        }
    }

    /// <summary>Raised on the grab thread whenever the state changes; handlers must be quick and must not throw.</summary>
    public event EventHandler<CameraStatus>? StatusChanged;

    /// <summary>The latest frame (at most one waits here). The reader owns each frame it takes and disposes it.</summary>
    public ChannelReader<Frame> Frames => _latest.Reader;

    /// <summary>Frame buffers created so far; constant in steady state when consumers dispose frames promptly.</summary>
    public int BuffersCreated => _pool.Created;

    public void Start()
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException($"Camera {CameraId} is already started.");
        }

        _thread = new Thread(Run) { IsBackground = true, Name = $"camera {CameraId}" };
        _thread.Start();
    }

    /// <summary>Waits for the next frame (the latest one) and hands it over; the caller disposes it.</summary>
    public ValueTask<Frame> ReadLatestAsync(CancellationToken cancellationToken = default) =>
        _latest.Reader.ReadAsync(cancellationToken);

    /// <summary>Takes the waiting frame if there is one.</summary>
    public bool TryTakeLatest(out Frame? frame) => _latest.Reader.TryRead(out frame);

    /// <summary>The back-off before attempt <paramref name="attempt"/> (1-based): initial × 2^(attempt−1), capped.</summary>
    public static TimeSpan Backoff(CameraOptions options, int attempt)
    {
        ArgumentNullException.ThrowIfNull(options);
        double ms = options.InitialBackoffMs * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, options.MaxBackoffMs));
    }

    private void Run()
    {
        CancellationToken ct = _stop.Token;
        EndOfStreamAction onEnd = _options.ResolveOnEnd();
        int attempt = 0;
        long sequence = 0;
        bool everOpened = false;
        while (!ct.IsCancellationRequested)
        {
            SetStatus(CameraState.Connecting, null, attempt, null);
            string reason;
            bool ended = false;
            ICameraSource? source = null;
            try
            {
                source = _factory(_options);
                source.Open();
                if (everOpened)
                {
                    Interlocked.Increment(ref _reconnects);
                }

                everOpened = true;
                bool live = false;
                reason = "the source stopped delivering frames";
                while (!ct.IsCancellationRequested)
                {
                    FrameBuffer buffer = _pool.Rent();
                    bool ok;
                    try
                    {
                        ok = source.Read(buffer.Mat);
                        if (ok && buffer.Mat.Type() != MatType.CV_8UC3)
                        {
                            ok = ToBgr(buffer.Mat);
                        }
                    }
                    catch
                    {
                        buffer.Dispose();
                        throw;
                    }

                    if (!ok)
                    {
                        buffer.Dispose();
                        ended = source.IsFinite;
                        reason = source.IsFinite ? "the end of the source was reached" : source.LastError ?? "the stream stopped delivering frames";
                        break;
                    }

                    Frame frame = buffer.Wrap(_time.GetUtcNow(), sequence++, _options.Id); // the buffer's own frame object, re-armed
                    Interlocked.Increment(ref _grabbed);
                    if (!live)
                    {
                        live = true;
                        attempt = 0;
                        SetStatus(CameraState.Live, null, 0, null);
                    }

                    if (!_latest.Writer.TryWrite(frame))
                    {
                        frame.Dispose();
                    }
                }
            }
            catch (Exception ex) when (ex is CameraException or OpenCVException or IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                reason = ex.Message;
            }
            finally
            {
                source?.Dispose();
            }

            if (ct.IsCancellationRequested)
            {
                break;
            }

            if (ended && onEnd == EndOfStreamAction.Stop)
            {
                SetStatus(CameraState.Ended, reason, 0, null);
                return;
            }

            if (ended)
            {
                continue; // a finite source configured to reconnect: reopen at once, it did not fail
            }

            attempt++;
            TimeSpan delay = Backoff(_options, attempt);
            SetStatus(CameraState.Failed, reason, attempt, delay);
            if (ct.WaitHandle.WaitOne(delay))
            {
                break;
            }
        }

        SetStatus(CameraState.Stopped, null, 0, null);
    }

    private static bool ToBgr(Mat mat)
    {
        if (mat.Empty() || mat.Depth() != MatType.CV_8U)
        {
            return false;
        }

        ColorConversionCodes? code = mat.Channels() switch
        {
            1 => ColorConversionCodes.GRAY2BGR,
            4 => ColorConversionCodes.BGRA2BGR,
            _ => null,
        };
        if (code is null)
        {
            return false;
        }

        Cv2.CvtColor(mat, mat, code.Value);
        return true;
    }

    private void SetStatus(CameraState state, string? reason, int attempt, TimeSpan? retryIn)
    {
        CameraStatus status;
        lock (_statusLock)
        {
            _status = new CameraStatus(_options.Id, state, reason, attempt, retryIn, Interlocked.Read(ref _grabbed), Interlocked.Read(ref _dropped), Volatile.Read(ref _reconnects), _time.GetUtcNow());
            status = _status;
        }

        StatusChanged?.Invoke(this, status);
    }

    /// <summary>Stops the grab thread, waits for it, drops the waiting frame and frees pooled buffers.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _thread?.Join();
        _latest.Writer.TryComplete();
        while (_latest.Reader.TryRead(out Frame? frame))
        {
            frame.Dispose();
        }

        _pool.Dispose();
        _stop.Dispose();
    }
}
