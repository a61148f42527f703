using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Capture.Triggers;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Service.Frames;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Hosting;

/// <summary>
/// Starts the cameras and moves each camera's latest frame into the <see cref="FrameStore"/>; logs state changes.
/// A camera with motion triggers has its <see cref="MotionWatcher"/> look at the new frame in its pump (not on the
/// grab thread; rate-limited by the watcher).
/// </summary>
internal sealed class CaptureService : IHostedService, IDisposable
{
    private readonly CameraManager? _cameras;
    private readonly FrameStore _frames;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _pumps = [];
    private readonly IReadOnlyDictionary<string, MotionWatcher> _motion;

    /// <param name="cameras">Null: no cameras (the decoder role).</param>
    /// <param name="motion">The motion watchers by camera id (cameras with motion triggers only).</param>
    public CaptureService(CameraManager? cameras, FrameStore frames, ILogger<CaptureService> logger, IReadOnlyDictionary<string, MotionWatcher>? motion = null)
    {
        _motion = motion ?? new Dictionary<string, MotionWatcher>();
        _cameras = cameras;
        _frames = frames;
        _logger = logger;
    }

    /// <summary>Raised when a camera's state changes (on its grab thread).</summary>
    public event EventHandler<CameraStatus>? CameraStateChanged;

    public IReadOnlyList<CameraStatus> Statuses => _cameras?.Statuses ?? [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_cameras is null)
        {
            return Task.CompletedTask;
        }

        foreach (CameraSupervisor camera in _cameras.Cameras)
        {
            CameraFrames frames = _frames[camera.CameraId];
            camera.StatusChanged += OnStatusChanged;
            MotionWatcher? motion = _motion.GetValueOrDefault(camera.CameraId);
            _pumps.Add(Task.Run(() => PumpAsync(camera, frames, motion, _logger, _stopping.Token), CancellationToken.None));
        }

        _cameras.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_pumps).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            foreach (MotionWatcher watcher in _motion.Values)
            {
                watcher.Dispose();
            }
        }
    }

    private void OnStatusChanged(object? sender, CameraStatus status)
    {
        if (status.State == CameraState.Failed)
        {
            _logger.LogWarning("Camera {Status}", status);
        }
        else
        {
            _logger.LogInformation("Camera {Status}", status);
        }

        CameraStateChanged?.Invoke(this, status);
    }

    private static async Task PumpAsync(CameraSupervisor camera, CameraFrames frames, MotionWatcher? motion, ILogger logger, CancellationToken ct)
    {
        try
        {
            await foreach (Frame frame in camera.Frames.ReadAllAsync(ct).ConfigureAwait(false))
            {
                frames.Publish(frame);
                if (motion is not null)
                {
                    // A lease on the frame just published: the motion triggers' questions ask about this same frame.
                    using FrameLease? lease = frames.TryLatest();
                    if (lease is not null)
                    {
                        Watch(motion, lease.Frame, logger);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void Watch(MotionWatcher motion, Frame frame, ILogger logger)
    {
        try
        {
            motion.Observe(frame);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A frame the detector cannot use (another format) must not stop the pump.
            logger.LogWarning(ex, "Motion detection on {Camera} failed: {Message}", motion.CameraId, ex.Message);
        }
    }

    public void Dispose() => _stopping.Dispose();
}
