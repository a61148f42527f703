namespace LlavaUhd.Edge.Service.Frames;

/// <summary>The frames of every camera, by id.</summary>
internal sealed class FrameStore : IDisposable
{
    private readonly Dictionary<string, CameraFrames> _cameras;

    public FrameStore(IEnumerable<string> cameraIds, int history)
    {
        _cameras = cameraIds.ToDictionary(id => id, id => new CameraFrames(id, history), StringComparer.Ordinal);
    }

    public IEnumerable<string> CameraIds => _cameras.Keys;

    public CameraFrames this[string cameraId] => _cameras[cameraId];

    public bool TryGet(string cameraId, out CameraFrames? frames) => _cameras.TryGetValue(cameraId, out frames);

    public void Dispose()
    {
        foreach (CameraFrames c in _cameras.Values)
        {
            c.Dispose();
        }
    }
}
