namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>What kind of source a camera's <see cref="CameraOptions.Source"/> string names.</summary>
public enum CameraSourceKind
{
    /// <summary>Inferred from the string: digits or /dev/… → device, "!" → GStreamer, scheme:// → stream, "testpattern" → pattern, a folder → images, else a video file.</summary>
    Auto,

    /// <summary>A V4L2/USB camera: an index ("0") or a path ("/dev/video0").</summary>
    Device,

    /// <summary>A GStreamer pipeline ending in appsink, e.g. a Jetson CSI camera through nvarguscamerasrc.</summary>
    GStreamer,

    /// <summary>A network stream: rtsp://, rtsps://, http://, https://, rtmp://, udp://, tcp://.</summary>
    Stream,

    /// <summary>A video file.</summary>
    File,

    /// <summary>A folder of images (png, jpg, jpeg, bmp, tif, tiff, webp), read in name order.</summary>
    ImageFolder,

    /// <summary>A generated test pattern with a moving square: "testpattern" or "testpattern:WxH".</summary>
    TestPattern,
}
