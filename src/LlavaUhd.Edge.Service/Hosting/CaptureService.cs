using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Service.Frames;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Hosting;

/// <summary>Starts the cameras and moves each camera's latest frame into the <see cref="FrameStore"/>; logs state changes.</summary>
internal sealed class CaptureService : IHostedService, IDisposable
{
    private readonly CameraManager? _cameras;
    private readonly FrameStore _frames;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _pumps = [];

    /// <param name="cameras">Null: no cameras (the decoder role).</param>
    public CaptureService(CameraManager? cameras, FrameStore frames, ILogger<CaptureService> logger)
    {
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
            _pumps.Add(Task.Run(() => PumpAsync(camera, frames, _stopping.Token), CancellationToken.None));
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

    private static async Task PumpAsync(CameraSupervisor camera, CameraFrames frames, CancellationToken ct)
    {
        try
        {
            await foreach (Frame frame in camera.Frames.ReadAllAsync(ct).ConfigureAwait(false))
            {
                frames.Publish(frame);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _stopping.Dispose();
}
