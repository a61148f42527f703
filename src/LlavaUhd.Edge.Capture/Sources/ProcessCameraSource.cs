using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using LlavaUhd.Edge.Capture.Errors;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>
/// A decoder child process (<c>ffmpeg</c> or <c>gst-launch-1.0</c>) that writes raw 8-bit BGR frames to its standard
/// output, read here frame by frame straight into the caller's <see cref="Mat"/> (docs/cameras.md, "Decoders"). The
/// process runs the network protocol and the codec (RTSP over TCP or UDP, HTTP MJPEG, H.264/H.265 streams and files);
/// a crash or hang in it never reaches this process. A watchdog kills it when no frame arrives for
/// <see cref="CameraOptions.StallTimeoutSeconds"/> — a camera that keeps its socket open but stops sending — and the
/// <see cref="CameraSupervisor"/> reopens the source with back-off. Steady-state reads allocate nothing.
/// </summary>
public sealed class ProcessCameraSource : ICameraSource
{
    private readonly CameraOptions _options;
    private readonly DecoderCommand _command;
    private readonly bool _isFile;
    private readonly Lock _lock = new();
    private Process? _process;
    private Stream? _stdout;
    private Timer? _watchdog;
    private long _lastDataTicks;
    private volatile bool _framing;
    private volatile string? _stallReason;
    private string? _lastErrorLine;
    private int _width;
    private int _height;
    private long _lastPaceTicks;
    private TaskCompletionSource<(int Width, int Height)>? _size;

    public ProcessCameraSource(CameraOptions options, DecoderCommand command)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(command);
        _options = options;
        _command = command;
        CameraSourceKind kind = options.ResolveKind();   // once: for a file it looks at the disk
        _isFile = kind == CameraSourceKind.File;
        IsFinite = _isFile && options.ResolveOnEnd() != EndOfStreamAction.Loop;
        Description = $"{kind} {OpenCvCameraSource.Redact(options.Source)} via {command.Program}";
    }

    public string Description { get; }

    public bool IsFinite { get; }

    /// <summary>Why the last <see cref="Read"/> returned false: a stall, or the decoder's exit code and last error line.</summary>
    public string? LastError { get; private set; }

    /// <summary>The decoder's process id while it runs (for tests and diagnostics).</summary>
    public int? ProcessId
    {
        get
        {
            lock (_lock)
            {
                return _process?.Id;
            }
        }
    }

    public void Open()
    {
        Close();
        LastError = null;
        _stallReason = null;
        _lastErrorLine = null;
        var info = new ProcessStartInfo(_command.Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,   // never the service's own stdin
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (string argument in _command.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        _size = new TaskCompletionSource<(int, int)>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_command.Width > 0)
        {
            _size.TrySetResult((_command.Width, _command.Height));
        }

        TaskCompletionSource<(int, int)> size = _size;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.ErrorDataReceived += (_, e) => OnStderr(e.Data, size);
        process.Exited += (_, _) => size.TrySetResult((0, 0));
        try
        {
            if (!process.Start())
            {
                throw new CameraException($"{Description}: could not start {_command.Program}.");
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new CameraException($"{Description}: could not start {_command.Program} ({ex.Message}); install it (apt-get install {_command.Package}) or choose another Decoder.");
        }

        process.StandardInput.Close();
        process.BeginErrorReadLine();
        lock (_lock)
        {
            _process = process;
            _stdout = process.StandardOutput.BaseStream;
        }

        Volatile.Write(ref _lastDataTicks, Environment.TickCount64);
        _framing = false;
        TimeSpan open = TimeSpan.FromSeconds(DecoderCommand.OpenTimeoutSeconds(_options));
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Clamp(_options.StallTimeoutSeconds * 1000 / 4, 50, 1000));
        _watchdog = new Timer(static s => ((ProcessCameraSource)s!).CheckStall(), this, period, period);

        // the frame size: configured (the decoder scales to it), or read from the decoder's log before the first frame
        if (!_size.Task.Wait(open))
        {
            string reason = Reason("no stream information");
            Close();
            throw new CameraException($"{Description}: {reason}");
        }

        (_width, _height) = _size.Task.Result;
        if (_width <= 0 || _height <= 0)
        {
            string reason = Reason("the decoder exited before the first frame");
            Close();
            throw new CameraException($"{Description}: {reason}");
        }
    }

    public unsafe bool Read(Mat destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Stream stdout = _stdout ?? throw new InvalidOperationException($"{Description}: Read before Open.");
        if (_isFile)
        {
            Pace.Wait(_options.Fps, ref _lastPaceTicks);
        }

        if (destination.Rows != _height || destination.Cols != _width || destination.Type() != MatType.CV_8UC3 || !destination.IsContinuous())
        {
            destination.Create(_height, _width, MatType.CV_8UC3);
        }

        int length = _width * _height * 3;
        var span = new Span<byte>((void*)destination.Data, length);
        int got = 0;
        try
        {
            while (got < length)
            {
                int n = stdout.Read(span[got..]);
                if (n == 0)
                {
                    LastError = Reason(got == 0 ? "the stream ended" : "the stream ended inside a frame");
                    return false;
                }

                got += n;
                Volatile.Write(ref _lastDataTicks, Environment.TickCount64);
            }

            _framing = true;
        }
        catch (IOException ex)
        {
            LastError = Reason(ex.Message);
            return false;
        }

        return true;
    }

    public void Dispose()
    {
        Close();
    }

    private string Reason(string what)
    {
        if (_stallReason is { } stall)
        {
            return stall;
        }

        Process? process = _process;
        string exit = "";
        if (process is not null && process.WaitForExit(1000))
        {
            process.WaitForExit();  // the stderr reader has drained
            exit = string.Create(CultureInfo.InvariantCulture, $"; {_command.Program} exited with code {process.ExitCode}");
        }

        string? line = Volatile.Read(ref _lastErrorLine);
        return line is null ? $"{what}{exit}" : $"{what}{exit}: {line}";
    }

    private void CheckStall()
    {
        long quiet = Environment.TickCount64 - Volatile.Read(ref _lastDataTicks);
        bool framing = _framing;
        double limit = framing ? _options.StallTimeoutSeconds : DecoderCommand.OpenTimeoutSeconds(_options);
        if (quiet < limit * 1000 || _stallReason is not null)
        {
            return;
        }

        _stallReason = framing
            ? string.Create(CultureInfo.InvariantCulture, $"stalled: no data for {quiet / 1000.0:0.#} s (StallTimeoutSeconds {_options.StallTimeoutSeconds}); the decoder was stopped")
            : string.Create(CultureInfo.InvariantCulture, $"no first frame within {limit:0.#} s; the decoder was stopped");
        lock (_lock)
        {
            try
            {
                _process?.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // it exited meanwhile
            }
        }

        _size?.TrySetResult((0, 0));
    }

    private void OnStderr(string? line, TaskCompletionSource<(int, int)> size)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        line = line.Trim();
        if (!size.Task.IsCompleted && _command.SizeFromLog(line) is { } wh)
        {
            size.TrySetResult(wh);
            return;
        }

        if (DecoderCommand.Problem(line) is { } problem)
        {
            problem = OpenCvCameraSource.Redact(problem);
            Volatile.Write(ref _lastErrorLine, problem.Length > 300 ? problem[..300] : problem);
        }
    }

    private void Close()
    {
        _watchdog?.Dispose();
        _watchdog = null;
        Process? process;
        lock (_lock)
        {
            process = _process;
            _process = null;
            _stdout = null;
        }

        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            process.Dispose();
        }
    }
}

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
