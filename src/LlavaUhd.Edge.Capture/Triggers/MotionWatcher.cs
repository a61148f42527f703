using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>
/// The motion triggers of one camera: its frame pump (the service's capture loop) hands it every new frame and, at
/// most <c>checksPerSecond</c> times a second (the service's <c>Service:MotionChecksPerSecond</c>), the <see cref="MotionDetector"/> looks at that frame (the
/// detector allocates nothing per frame; frames in between are not looked at, so a slow detector never backs up the
/// pump) and each <see cref="MotionTrigger"/> decides — zone overlap, cooldown on frame time — whether to fire. A firing
/// carries the motion box (native pixels, padded and merged by the detector) as <see cref="TriggerEvent.Roi"/>; the
/// standing questions bound to the trigger ask about that box. Not thread-safe: one pump per camera calls it.
/// </summary>
public sealed class MotionWatcher : IDisposable
{
    private readonly MotionDetector _detector;
    private readonly IReadOnlyList<MotionTrigger> _triggers;
    private readonly List<PixelRect> _boxes = new(16);
    private readonly List<Region> _regions = new(16);
    private readonly TimeProvider _time;
    private readonly long _minTicks;
    private readonly Lock _boxLock = new();
    private PixelRect _lastBox;
    private DateTimeOffset _lastBoxTime;
    private long _last;
    private long _checked;

    /// <param name="cameraId">The camera whose frames it watches.</param>
    /// <param name="options">The camera's motion detector settings.</param>
    /// <param name="triggers">The motion triggers watching this camera; the watcher disposes them.</param>
    /// <param name="checksPerSecond">The most frames a second the detector looks at.</param>
    /// <param name="time">The clock that spaces the looks; <see cref="TimeProvider.System"/> when null.</param>
    public MotionWatcher(string cameraId, MotionOptions options, IReadOnlyList<MotionTrigger> triggers, double checksPerSecond, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(checksPerSecond);
        CameraId = cameraId;
        _detector = new MotionDetector(options);
        _triggers = triggers;
        _time = time ?? TimeProvider.System;
        _minTicks = (long)(_time.TimestampFrequency / checksPerSecond);
    }

    /// <summary>The camera whose frames it watches.</summary>
    public string CameraId { get; }

    /// <summary>The motion triggers it fires.</summary>
    public IReadOnlyList<MotionTrigger> Triggers => _triggers;

    /// <summary>Frames the detector looked at.</summary>
    public long Checked => Interlocked.Read(ref _checked);

    /// <summary>The box around the motion the detector saw last (native pixels), for the snapshot overlay (docs/http.md).</summary>
    public bool TryGetLastMotion(out PixelRect box, out DateTimeOffset frameTime)
    {
        lock (_boxLock)
        {
            box = _lastBox;
            frameTime = _lastBoxTime;
        }

        return !box.IsEmpty;
    }

    /// <summary>Looks at <paramref name="frame"/> when the last look is at least 1/rate ago; fires the triggers that see motion.</summary>
    public void Observe(Frame frame)
    {
        long now = _time.GetTimestamp();
        if (_last != 0 && now - _last < _minTicks)
        {
            return;
        }

        Mat? image = frame.TryGetMat();
        if (image is null)
        {
            return;
        }

        _last = now;
        Interlocked.Increment(ref _checked);
        _boxes.Clear();
        _detector.Detect(image, frame.Timestamp, _boxes);
        if (_boxes.Count == 0)
        {
            return;
        }

        _regions.Clear();
        PixelRect union = _boxes[0];
        foreach (PixelRect box in _boxes)
        {
            _regions.Add(frame.Crop(box, RegionReason.Motion));
            int x = Math.Min(union.X, box.X), y = Math.Min(union.Y, box.Y);
            union = new PixelRect(x, y, Math.Max(union.Right, box.Right) - x, Math.Max(union.Bottom, box.Bottom) - y);
        }

        lock (_boxLock)
        {
            _lastBox = union;
            _lastBoxTime = frame.Timestamp;
        }

        foreach (MotionTrigger trigger in _triggers)
        {
            trigger.Observe(frame, _regions);
        }
    }

    /// <summary>Disposes the detector and the triggers.</summary>
    public void Dispose()
    {
        _detector.Dispose();
        foreach (MotionTrigger trigger in _triggers)
        {
            trigger.Dispose();
        }
    }
}
