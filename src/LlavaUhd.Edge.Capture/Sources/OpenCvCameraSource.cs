using System.Globalization;
using System.Text.RegularExpressions;
using LlavaUhd.Edge.Capture.Errors;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>
/// A source read through OpenCV's <see cref="VideoCapture"/>: V4L2/USB devices (index or /dev/videoN), GStreamer
/// pipelines (Jetson CSI cameras: <c>nvarguscamerasrc ! … ! appsink</c>; this needs an OpenCV built with GStreamer,
/// as JetPack's is; the OpenCvSharp4 linux-x64 runtime package is not), RTSP/HTTP streams and video files.
/// </summary>
public sealed partial class OpenCvCameraSource : ICameraSource
{
    private readonly CameraOptions _options;
    private readonly CameraSourceKind _kind;
    private long _lastTicks;
    private VideoCapture? _capture;

    public OpenCvCameraSource(CameraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _kind = options.ResolveKind();
        Description = $"{_kind} {Redact(options.Source)}";
    }

    public string Description { get; }

    public bool IsFinite => _kind == CameraSourceKind.File;

    /// <summary>Whether this process's OpenCV can open GStreamer pipelines.</summary>
    public static bool HasGStreamer { get; } = Cv2.GetBuildInformation()
        .Split('\n')
        .Any(line => line.TrimStart().StartsWith("GStreamer:", StringComparison.Ordinal) && line.Contains("YES", StringComparison.Ordinal));

    public void Open()
    {
        Close();
        string source = _options.Source.Trim();
        if (_kind == CameraSourceKind.GStreamer && !HasGStreamer)
        {
            throw new CameraException($"{Description}: this OpenCV build has no GStreamer support; on Jetson use JetPack's OpenCV (built with GStreamer), or a V4L2 device.");
        }

        if (_kind == CameraSourceKind.File && !source.Contains("://", StringComparison.Ordinal) && !File.Exists(source))
        {
            throw new CameraException($"{Description}: the video file does not exist (yet).");
        }

        if (_kind == CameraSourceKind.Device && source.StartsWith("/dev/", StringComparison.Ordinal) && !File.Exists(source))
        {
            throw new CameraException($"{Description}: the device does not exist (is the camera plugged in? V4L2 devices are /dev/videoN).");
        }

        VideoCapture capture = _kind switch
        {
            CameraSourceKind.Device when source.All(char.IsAsciiDigit) =>
                new VideoCapture(int.Parse(source, CultureInfo.InvariantCulture), VideoCaptureAPIs.V4L2),
            CameraSourceKind.Device => new VideoCapture(source, VideoCaptureAPIs.V4L2),
            CameraSourceKind.GStreamer => new VideoCapture(source, VideoCaptureAPIs.GSTREAMER),
            CameraSourceKind.Stream => new VideoCapture(source, VideoCaptureAPIs.FFMPEG),
            _ => new VideoCapture(source, VideoCaptureAPIs.ANY),
        };

        if (!capture.IsOpened())
        {
            capture.Dispose();
            string hint = _kind switch
            {
                CameraSourceKind.Device => "no such device, busy, or no permission (is the user in the video group?)",
                CameraSourceKind.Stream => "unreachable, refused, or not a stream OpenCV's FFmpeg can read",
                CameraSourceKind.GStreamer => "the pipeline failed to start (check it with gst-launch-1.0)",
                _ => "missing or not a video OpenCV can decode",
            };
            throw new CameraException($"{Description}: could not open ({hint}).");
        }

        if (!string.IsNullOrEmpty(_options.FourCC))
        {
            capture.Set(VideoCaptureProperties.FourCC, FourCC.FromString(_options.FourCC).Value);
        }

        if (_options.Width > 0)
        {
            capture.Set(VideoCaptureProperties.FrameWidth, _options.Width);
            capture.Set(VideoCaptureProperties.FrameHeight, _options.Height);
        }

        if (_options.Fps > 0 && _kind == CameraSourceKind.Device)
        {
            capture.Set(VideoCaptureProperties.Fps, _options.Fps);
        }

        _capture = capture;
    }

    public bool Read(Mat destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (_capture is null)
        {
            throw new InvalidOperationException($"{Description}: Read before Open.");
        }

        if (_kind == CameraSourceKind.File)
        {
            Pace.Wait(_options.Fps, ref _lastTicks);   // a video file replays at Fps when set (else as fast as it decodes)
        }

        if (_capture.Read(destination) && !destination.Empty())
        {
            return true;
        }

        if (IsFinite && _options.ResolveOnEnd() == EndOfStreamAction.Loop && _capture.Set(VideoCaptureProperties.PosFrames, 0))
        {
            return _capture.Read(destination) && !destination.Empty();
        }

        return false;
    }

    public void Dispose() => Close();

    private void Close()
    {
        _capture?.Release();
        _capture?.Dispose();
        _capture = null;
    }

    /// <summary>Hides the password of every URL in <paramref name="text"/> (rtsp://user:secret@host/stream → rtsp://user:***@host/stream): a source string or a decoder's log line.</summary>
    internal static string Redact(string text) => UrlWithPassword().Replace(text, "$1***@");

    [GeneratedRegex(@"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlWithPassword();
}
