using LlavaUhd.Edge.Core.Capture;

namespace LlavaUhd.Edge.Service.Frames;

/// <summary>
/// The frames of one camera the service can answer about: the latest grabbed frame (replaced, and released, by
/// each new one) and the last <c>history</c> frames that were answered, so a follow-up question can reference one by
/// its sequence number. Memory is bounded by 1 + history frames per camera plus those in flight.
/// </summary>
internal sealed class CameraFrames : IDisposable
{
    private readonly Lock _lock = new();
    private readonly int _history;
    private readonly LinkedList<SharedFrame> _answered = new();
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SharedFrame? _latest;
    private AnsweredPlan? _lastAnswer;
    private bool _disposed;

    public CameraFrames(string cameraId, int history)
    {
        CameraId = cameraId;
        _history = history;
    }

    public string CameraId { get; }

    public long Received { get; private set; }

    /// <summary>The slice plan of the camera's last answer (or encoding), set by the model worker; null before the first.</summary>
    public AnsweredPlan? LastAnswer
    {
        get => Volatile.Read(ref _lastAnswer);
        set => Volatile.Write(ref _lastAnswer, value);
    }

    /// <summary>Takes ownership of <paramref name="frame"/> as the new latest frame.</summary>
    public void Publish(Frame frame)
    {
        SharedFrame? old;
        lock (_lock)
        {
            if (_disposed)
            {
                frame.Dispose();
                return;
            }

            old = _latest;
            _latest = new SharedFrame(frame);
            Received++;
        }

        old?.Release();
        _first.TrySetResult();
    }

    /// <summary>A lease on the latest frame, or null when none arrived yet.</summary>
    public FrameLease? TryLatest()
    {
        lock (_lock)
        {
            return _latest is { } s && s.TryAddRef() ? new FrameLease(s) : null;
        }
    }

    /// <summary>The latest frame, waiting up to <paramref name="wait"/> for the first one; null if none came.</summary>
    public async Task<FrameLease?> LatestAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        FrameLease? lease = TryLatest();
        if (lease is not null || wait <= TimeSpan.Zero)
        {
            return lease;
        }

        try
        {
            await _first.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }

        return TryLatest();
    }

    /// <summary>A lease on an answered frame still held in the history.</summary>
    public FrameLease? TryAnswered(long sequence)
    {
        lock (_lock)
        {
            foreach (SharedFrame s in _answered)
            {
                if (s.Frame.Sequence == sequence && s.TryAddRef())
                {
                    return new FrameLease(s);
                }
            }

            if (_latest is { } l && l.Frame.Sequence == sequence && l.TryAddRef())
            {
                return new FrameLease(l);
            }
        }

        return null;
    }

    /// <summary>Keeps <paramref name="lease"/>'s frame in the answered history (evicting the oldest).</summary>
    public void Remember(FrameLease lease)
    {
        if (_history == 0)
        {
            return;
        }

        SharedFrame? evicted = null;
        lock (_lock)
        {
            if (_disposed || _answered.Any(s => ReferenceEquals(s, lease.Shared)) || !lease.Shared.TryAddRef())
            {
                return;
            }

            _answered.AddLast(lease.Shared);
            if (_answered.Count > _history)
            {
                evicted = _answered.First!.Value;
                _answered.RemoveFirst();
            }
        }

        evicted?.Release();
    }

    public void Dispose()
    {
        List<SharedFrame> release;
        lock (_lock)
        {
            _disposed = true;
            release = [.. _answered];
            if (_latest is not null)
            {
                release.Add(_latest);
            }

            _answered.Clear();
            _latest = null;
        }

        foreach (SharedFrame s in release)
        {
            s.Release();
        }
    }
}
