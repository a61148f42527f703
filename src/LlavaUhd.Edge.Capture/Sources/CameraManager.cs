using LlavaUhd.Edge.Capture.Errors;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>
/// Several cameras, each with its own options and its own <see cref="CameraSupervisor"/>. All options are validated
/// together before anything starts (every problem is listed); afterwards one camera failing never stops another.
/// </summary>
public sealed class CameraManager : IDisposable
{
    private readonly List<CameraSupervisor> _cameras = [];

    public CameraManager(CaptureOptions options, Func<CameraOptions, ICameraSource>? sourceFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        // the shape of every source only: a camera whose device, file or folder is missing now is opened and
        // retried like one that fails later, so the others run meanwhile
        IReadOnlyList<string> problems = options.Validate(checkPaths: false);
        if (problems.Count > 0)
        {
            throw new CaptureConfigurationException(problems);
        }

        foreach (CameraOptions camera in options.Cameras)
        {
            _cameras.Add(new CameraSupervisor(camera, sourceFactory, timeProvider));
        }
    }

    public IReadOnlyList<CameraSupervisor> Cameras => _cameras;

    public CameraSupervisor this[string id] => _cameras.Find(c => c.CameraId == id)
        ?? throw new KeyNotFoundException($"No camera '{id}'.");

    /// <summary>The state of every camera.</summary>
    public IReadOnlyList<CameraStatus> Statuses => _cameras.ConvertAll(c => c.Status);

    public void Start()
    {
        foreach (CameraSupervisor camera in _cameras)
        {
            camera.Start();
        }
    }

    public void Dispose()
    {
        foreach (CameraSupervisor camera in _cameras)
        {
            camera.Dispose();
        }
    }
}
