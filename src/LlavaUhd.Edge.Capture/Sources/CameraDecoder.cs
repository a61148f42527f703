namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>What decodes a camera's frames (docs/cameras.md, "Decoders").</summary>
public enum CameraDecoder
{
    /// <summary>Streams: an ffmpeg child process when ffmpeg is installed, else OpenCV. Files: OpenCV, then ffmpeg when OpenCV cannot read the file. GStreamer pipelines: OpenCV when it has GStreamer, else a gst-launch-1.0 child process.</summary>
    Auto,

    /// <summary>OpenCV's <c>VideoCapture</c> in this process.</summary>
    OpenCv,

    /// <summary>An <c>ffmpeg</c> child process writing raw BGR frames to a pipe (streams and files).</summary>
    FFmpeg,

    /// <summary>A <c>gst-launch-1.0</c> child process writing raw BGR frames to a pipe (GStreamer pipelines, and streams through <c>uridecodebin</c>).</summary>
    GStreamer,
}
