using System.Globalization;
using LlavaUhd.Edge.Capture.Errors;
using LlavaUhd.Edge.Capture.Roi;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>One camera: where its frames come from, how to open it, its zones and its motion detection.</summary>
public sealed class CameraOptions
{
    /// <summary>Configuration section of one camera inside <see cref="CaptureOptions.Cameras"/>.</summary>
    public const string SectionName = "Capture:Cameras";

    private static readonly string[] s_streamSchemes = ["rtsp", "rtsps", "http", "https", "rtmp", "udp", "tcp"];

    /// <summary>Unique id, used in frames, states and topics.</summary>
    public string Id { get; set; } = "";

    /// <summary>Device index or path, GStreamer pipeline, URL, video file, image folder or "testpattern[:WxH]".</summary>
    public string Source { get; set; } = "";

    public CameraSourceKind Kind { get; set; } = CameraSourceKind.Auto;

    /// <summary>Requested frame width in pixels (0: the source's default). Set with <see cref="Height"/>.</summary>
    public int Width { get; set; }

    /// <summary>Requested frame height in pixels (0: the source's default).</summary>
    public int Height { get; set; }

    /// <summary>Requested frames per second (0: the source's default). Test patterns, folders and video files are paced to it.</summary>
    public double Fps { get; set; }

    /// <summary>Pixel format for V4L2 devices as a FOURCC, e.g. "MJPG" or "YUYV" (empty: the driver's default).</summary>
    public string? FourCC { get; set; }

    public EndOfStreamAction OnEnd { get; set; } = EndOfStreamAction.Default;

    /// <summary>First reconnect delay; it doubles after every failed attempt up to <see cref="MaxBackoffMs"/>.</summary>
    public int InitialBackoffMs { get; set; } = 500;

    public int MaxBackoffMs { get; set; } = 30_000;

    /// <summary>What decodes the frames; <see cref="CameraDecoder.Auto"/> picks by source kind and what is installed.</summary>
    public CameraDecoder Decoder { get; set; } = CameraDecoder.Auto;

    /// <summary>RTSP transport for rtsp:// and rtsps:// sources (TCP by default: it passes NAT and firewalls and loses nothing).</summary>
    public RtspTransport Transport { get; set; } = RtspTransport.Tcp;

    /// <summary>
    /// A stream (or a decoder child process) that delivers no frame for this long is declared stalled, closed and
    /// reopened with back-off: a camera that keeps its socket open but stops sending. The first frame after a
    /// (re)connect may take this long or 15 s, whichever is longer.
    /// </summary>
    public double StallTimeoutSeconds { get; set; } = 10;

    /// <summary>Static zones; empty means the whole frame (or motion boxes when <see cref="Motion"/> is set).</summary>
    public IList<ZoneOptions> Zones { get; init; } = [];

    /// <summary>Motion ROI settings; null turns motion selection off.</summary>
    public MotionOptions? Motion { get; set; }

    /// <summary>The kind this camera's source resolves to (never <see cref="CameraSourceKind.Auto"/>).</summary>
    public CameraSourceKind ResolveKind()
    {
        if (Kind != CameraSourceKind.Auto)
        {
            return Kind;
        }

        string s = Source.Trim();
        if (s.Length > 0 && s.All(char.IsAsciiDigit))
        {
            return CameraSourceKind.Device;
        }

        if (s.StartsWith("/dev/", StringComparison.Ordinal))
        {
            return CameraSourceKind.Device;
        }

        if (s.Contains('!', StringComparison.Ordinal))
        {
            return CameraSourceKind.GStreamer;
        }

        if (s.Equals("testpattern", StringComparison.OrdinalIgnoreCase) || s.StartsWith("testpattern:", StringComparison.OrdinalIgnoreCase))
        {
            return CameraSourceKind.TestPattern;
        }

        if (s.Contains("://", StringComparison.Ordinal))
        {
            return CameraSourceKind.Stream;
        }

        return Directory.Exists(s) ? CameraSourceKind.ImageFolder : CameraSourceKind.File;
    }

    /// <summary>What happens at the end of the source, with <see cref="EndOfStreamAction.Default"/> resolved.</summary>
    public EndOfStreamAction ResolveOnEnd() => OnEnd != EndOfStreamAction.Default
        ? OnEnd
        : ResolveKind() is CameraSourceKind.File or CameraSourceKind.ImageFolder ? EndOfStreamAction.Stop : EndOfStreamAction.Reconnect;

    /// <summary>Every problem with this camera's options, each prefixed with <paramref name="path"/>; empty when valid.</summary>
    public IReadOnlyList<string> Validate(string path = "Camera")
    {
        var problems = new List<string>();
        Validate(path, problems);
        return problems;
    }

    /// <summary>Throws <see cref="CaptureConfigurationException"/> listing every problem of shape (a missing device, file or folder is not one: opening it is retried).</summary>
    public void ThrowIfInvalid()
    {
        var problems = new List<string>();
        Validate("Camera", problems, checkPaths: false);
        if (problems.Count > 0)
        {
            throw new CaptureConfigurationException(problems);
        }
    }

    internal void Validate(string path, List<string> problems, bool checkPaths = true)
    {
        if (!string.IsNullOrWhiteSpace(Id))
        {
            path = $"{path} ({Id})";
        }
        else
        {
            problems.Add($"{path}: Id is required.");
        }

        if (string.IsNullOrWhiteSpace(Source))
        {
            problems.Add($"{path}: Source is required (device index or path, GStreamer pipeline, URL, video file, image folder or testpattern).");
        }
        else if (!Enum.IsDefined(Kind))
        {
            problems.Add($"{path}: Kind {Kind} is not a source kind.");
        }
        else
        {
            ValidateSource(path, problems, checkPaths);
        }

        if (Width < 0 || Height < 0 || Width > 16384 || Height > 16384)
        {
            problems.Add(Invariant($"{path}: Width and Height must be between 0 (source default) and 16384; got {Width}x{Height}."));
        }
        else if ((Width == 0) != (Height == 0))
        {
            problems.Add(Invariant($"{path}: set both Width and Height or neither; got {Width}x{Height}."));
        }

        if (Fps < 0 || Fps > 1000 || double.IsNaN(Fps))
        {
            problems.Add(Invariant($"{path}: Fps must be between 0 (source default) and 1000; got {Fps}."));
        }

        if (!string.IsNullOrEmpty(FourCC) && (FourCC.Length != 4 || !FourCC.All(c => c is >= ' ' and <= '~')))
        {
            problems.Add($"{path}: FourCC must be 4 printable characters such as MJPG or YUYV; got '{FourCC}'.");
        }

        if (!Enum.IsDefined(OnEnd))
        {
            problems.Add($"{path}: OnEnd {OnEnd} is not one of Default, Stop, Loop, Reconnect.");
        }

        if (!Enum.IsDefined(Decoder))
        {
            problems.Add($"{path}: Decoder {Decoder} is not one of Auto, OpenCv, FFmpeg, GStreamer.");
        }
        else if (Enum.IsDefined(Kind) && !string.IsNullOrWhiteSpace(Source))
        {
            CameraSourceKind kind = ResolveKind();
            if (Decoder == CameraDecoder.FFmpeg && kind is not (CameraSourceKind.Stream or CameraSourceKind.File or CameraSourceKind.Device))
            {
                problems.Add($"{path}: Decoder FFmpeg reads streams, video files and devices; this source is {kind}.");
            }
            else if (Decoder == CameraDecoder.GStreamer && kind is not (CameraSourceKind.GStreamer or CameraSourceKind.Stream or CameraSourceKind.File))
            {
                problems.Add($"{path}: Decoder GStreamer runs pipelines, streams and video files; this source is {kind}.");
            }
            else if (Decoder == CameraDecoder.GStreamer && Width == 0)
            {
                problems.Add($"{path}: Decoder GStreamer needs Width and Height (the size of the raw frames gst-launch-1.0 writes).");
            }
        }

        if (!Enum.IsDefined(Transport))
        {
            problems.Add($"{path}: Transport {Transport} is not one of Tcp, Udp.");
        }

        if (!(StallTimeoutSeconds >= 0.5 && StallTimeoutSeconds <= 3600))
        {
            problems.Add(Invariant($"{path}: StallTimeoutSeconds must be between 0.5 and 3600; got {StallTimeoutSeconds}."));
        }

        if (InitialBackoffMs <= 0 || MaxBackoffMs < InitialBackoffMs)
        {
            problems.Add(Invariant($"{path}: back-off needs 0 < InitialBackoffMs <= MaxBackoffMs; got {InitialBackoffMs} and {MaxBackoffMs}."));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Zones.Count; i++)
        {
            ZoneOptions? zone = Zones[i];
            string zonePath = Invariant($"{path}: Zones[{i}]");
            if (zone is null)
            {
                problems.Add($"{zonePath}: is empty.");
                continue;
            }

            zone.Validate(zonePath, problems);
            if (!string.IsNullOrEmpty(zone.Name) && !names.Add(zone.Name))
            {
                problems.Add($"{zonePath}: zone name '{zone.Name}' is used twice.");
            }
        }

        Motion?.Validate($"{path}: Motion", problems);
    }

    private void ValidateSource(string path, List<string> problems, bool checkPaths)
    {
        string s = Source.Trim();
        switch (ResolveKind())
        {
            case CameraSourceKind.Device:
                if (s.All(char.IsAsciiDigit))
                {
                    if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index > 255)
                    {
                        problems.Add($"{path}: device index '{s}' must be between 0 and 255.");
                    }
                }
                else if (!s.StartsWith("/dev/", StringComparison.Ordinal))
                {
                    problems.Add($"{path}: device '{s}' must be an index (0) or a path under /dev (/dev/video0).");
                }
                else if (checkPaths && !File.Exists(s))
                {
                    problems.Add($"{path}: device '{s}' does not exist (is the camera plugged in, and is the path right? V4L2 devices are /dev/videoN).");
                }

                break;
            case CameraSourceKind.GStreamer:
                ValidatePipeline(path, s, problems);
                break;
            case CameraSourceKind.Stream:
                if (!Uri.TryCreate(s, UriKind.Absolute, out Uri? uri) || string.IsNullOrEmpty(uri.Host))
                {
                    problems.Add($"{path}: stream URL '{s}' is not a valid absolute URL with a host.");
                }
                else if (!s_streamSchemes.Contains(uri.Scheme, StringComparer.OrdinalIgnoreCase))
                {
                    problems.Add($"{path}: stream URL scheme '{uri.Scheme}' is not supported; use one of {string.Join(", ", s_streamSchemes)}.");
                }

                break;
            case CameraSourceKind.File:
                if (checkPaths && !File.Exists(s))
                {
                    problems.Add($"{path}: video file '{s}' does not exist.");
                }

                break;
            case CameraSourceKind.ImageFolder:
                if (!checkPaths)
                {
                    break;
                }

                if (!Directory.Exists(s))
                {
                    problems.Add($"{path}: image folder '{s}' does not exist.");
                }
                else if (ImageFolderSource.ListImages(s).Count == 0)
                {
                    problems.Add($"{path}: image folder '{s}' holds no images ({string.Join(", ", ImageFolderSource.Extensions)}).");
                }

                break;
            case CameraSourceKind.TestPattern:
                if (!TestPatternSource.TryParse(s, out _, out string? error))
                {
                    problems.Add($"{path}: {error}");
                }

                break;
        }
    }

    private static void ValidatePipeline(string path, string pipeline, List<string> problems)
    {
        string[] elements = pipeline.Split('!');
        if (elements.Length < 2 || elements.Any(e => string.IsNullOrWhiteSpace(e)))
        {
            problems.Add($"{path}: GStreamer pipeline '{pipeline}' has an empty element; elements are separated by '!' (src ! … ! appsink).");
        }

        string last = elements[^1].Trim();
        if (!last.StartsWith("appsink", StringComparison.Ordinal))
        {
            problems.Add($"{path}: GStreamer pipeline must end with an appsink element for OpenCV to read frames; it ends with '{last}'.");
        }

        if (pipeline.Count(c => c == '"') % 2 != 0)
        {
            problems.Add($"{path}: GStreamer pipeline has an unbalanced double quote.");
        }
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public override string ToString() => $"{Id} ({ResolveKind()}: {Source})";
}
