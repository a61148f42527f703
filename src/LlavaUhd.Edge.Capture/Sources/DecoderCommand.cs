using System.Globalization;
using System.Text.RegularExpressions;
using LlavaUhd.Edge.Capture.Errors;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>
/// The command line of a decoder child process for one camera: ffmpeg or gst-launch-1.0, writing raw BGR frames of a
/// known size to standard output (docs/cameras.md, "Decoders").
/// </summary>
public sealed partial record DecoderCommand(string Program, string Package, IReadOnlyList<string> Arguments, int Width, int Height)
{
    /// <summary>
    /// How long the first frame may take after the decoder starts (connect, describe, set up, the first key frame):
    /// <see cref="CameraOptions.StallTimeoutSeconds"/>, at least 15 s; after it, a stall is any gap longer than that option.
    /// </summary>
    public static double OpenTimeoutSeconds(CameraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Math.Max(options.StallTimeoutSeconds, 15);
    }

    /// <summary>Whether <paramref name="program"/> is an executable file on the PATH.</summary>
    public static bool IsInstalled(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));

    /// <summary>
    /// ffmpeg reading a stream, a file or a V4L2 device: the first video stream only, decoded to bgr24 (scaled to the
    /// configured size when one is set), no buffering beyond what the codec needs.
    /// </summary>
    public static DecoderCommand FFmpeg(CameraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string source = options.Source.Trim();
        var args = new List<string> { "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info" };
        CameraSourceKind kind = options.ResolveKind();
        // ffmpeg's own socket timeouts are the backstop: the source's watchdog notices a stall first and says so
        long timeoutUs = (long)((OpenTimeoutSeconds(options) + options.StallTimeoutSeconds) * 1_000_000);
        if (kind == CameraSourceKind.Stream)
        {
            string scheme = source[..source.IndexOf(':', StringComparison.Ordinal)].ToLowerInvariant();
            // low_delay: frames leave the decoder as soon as they can; not "-fflags nobuffer", which skips the probe
            // buffering that lets the decoder start at a key frame (H.265 then starts with concealed grey frames)
            args.AddRange(["-flags", "low_delay"]);
            if (scheme is "rtsp" or "rtsps")
            {
                args.AddRange(["-rtsp_transport", options.Transport == RtspTransport.Udp ? "udp" : "tcp"]);
                args.AddRange(["-timeout", timeoutUs.ToString(CultureInfo.InvariantCulture)]);
            }
            else if (scheme is "http" or "https" or "tcp" or "rtmp")
            {
                args.AddRange(["-rw_timeout", timeoutUs.ToString(CultureInfo.InvariantCulture)]);
            }
        }
        else if (kind == CameraSourceKind.Device)
        {
            args.AddRange(["-f", "v4l2"]);
            if (!string.IsNullOrEmpty(options.FourCC))
            {
                args.AddRange(["-input_format", options.FourCC.Equals("MJPG", StringComparison.OrdinalIgnoreCase) ? "mjpeg" : options.FourCC.ToLowerInvariant()]);
            }

            if (options.Width > 0)
            {
                args.AddRange(["-video_size", string.Create(CultureInfo.InvariantCulture, $"{options.Width}x{options.Height}")]);
            }

            if (options.Fps > 0)
            {
                args.AddRange(["-framerate", options.Fps.ToString(CultureInfo.InvariantCulture)]);
            }

            source = source.All(char.IsAsciiDigit) ? $"/dev/video{source}" : source;
        }
        else if (kind == CameraSourceKind.File && options.ResolveOnEnd() == EndOfStreamAction.Loop)
        {
            args.AddRange(["-stream_loop", "-1"]);
        }

        args.AddRange(["-i", source, "-map", "0:v:0", "-an", "-sn", "-dn"]);
        if (options.Width > 0)
        {
            args.AddRange(["-vf", string.Create(CultureInfo.InvariantCulture, $"scale={options.Width}:{options.Height}")]);
        }

        args.AddRange(["-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]);
        return new DecoderCommand("ffmpeg", "ffmpeg", args, options.Width, options.Height);
    }

    /// <summary>
    /// gst-launch-1.0 running a pipeline whose end (an <c>appsink</c>, if any) becomes a conversion to BGR at the
    /// configured size and a file-descriptor sink on standard output; streams and files go through
    /// <c>uridecodebin</c>, which picks the hardware decoder where the platform ranks one first (Jetson's nvv4l2decoder).
    /// </summary>
    public static DecoderCommand GStreamer(CameraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Width <= 0 || options.Height <= 0)
        {
            throw new CameraException($"{options.Id}: Decoder GStreamer needs Width and Height (the size of the raw frames gst-launch-1.0 writes).");
        }

        string source = options.Source.Trim();
        string head;
        if (options.ResolveKind() == CameraSourceKind.GStreamer)
        {
            List<string> elements = [.. source.Split('!').Select(e => e.Trim())];
            if (elements[^1].StartsWith("appsink", StringComparison.Ordinal))
            {
                elements.RemoveAt(elements.Count - 1);
            }

            head = string.Join(" ! ", elements);
        }
        else
        {
            string uri = source.Contains("://", StringComparison.Ordinal) ? source : new Uri(Path.GetFullPath(source)).AbsoluteUri;
            head = source.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase)
                ? $"rtspsrc location={uri} protocols={(options.Transport == RtspTransport.Udp ? "udp" : "tcp")} latency=100 ! decodebin"
                : $"uridecodebin uri={uri}";
        }

        string pipeline = string.Create(CultureInfo.InvariantCulture,
            $"{head} ! videoconvert ! videoscale ! video/x-raw,format=BGR,width={options.Width},height={options.Height} ! fdsink fd=1 sync=false");
        // gst-launch-1.0 parses its arguments as one pipeline description; -q keeps its messages off the pipe
        return new DecoderCommand("gst-launch-1.0", "gstreamer1.0-tools", ["-q", "-e", .. SplitPipeline(pipeline)], options.Width, options.Height);
    }

    /// <summary>The frame size when <paramref name="line"/> is ffmpeg's description of its raw video output.</summary>
    internal (int Width, int Height)? SizeFromLog(string line)
    {
        if (Program != "ffmpeg")
        {
            return null;
        }

        Match m = OutputStream().Match(line);
        return m.Success
            ? (int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].ValueSpan, CultureInfo.InvariantCulture))
            : null;
    }

    /// <summary>
    /// The problem a decoder log line reports, without its level tag; null for an informational line. ffmpeg runs with
    /// <c>-loglevel level+info</c>, so its lines carry <c>[error]</c>, <c>[warning]</c>, …; gst-launch-1.0 writes
    /// <c>ERROR: …</c> and <c>WARNING: …</c>.
    /// </summary>
    internal static string? Problem(string line)
    {
        foreach (string tag in (ReadOnlySpan<string>)["[fatal] ", "[error] ", "[warning] "])
        {
            int at = line.IndexOf(tag, StringComparison.Ordinal);
            if (at >= 0)
            {
                return string.Concat(line.AsSpan(0, at), line.AsSpan(at + tag.Length));
            }
        }

        return line.StartsWith("ERROR", StringComparison.Ordinal) || line.StartsWith("WARNING", StringComparison.Ordinal) ? line : null;
    }

    private static IEnumerable<string> SplitPipeline(string pipeline)
    {
        // gst-launch joins its arguments with spaces; quoted values stay whole
        foreach (Match m in PipelineToken().Matches(pipeline))
        {
            yield return m.Value.Replace("\"", "", StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"Stream #\d+:\d+.*: Video: rawvideo.*?, (\d{1,5})x(\d{1,5})")]
    private static partial Regex OutputStream();

    [GeneratedRegex(@"(?:[^\s""]+|""[^""]*"")+")]
    private static partial Regex PipelineToken();
}
