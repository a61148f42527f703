using System.Diagnostics;
using System.Globalization;
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
