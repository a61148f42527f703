using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using OpenCvSharp;

// Shared by the Capture and Service test projects (compiled into both; see their .csproj).
namespace LlavaUhd.Edge.Tests.Streams;

/// <summary>Test videos made by the real ffmpeg (H.264 and H.265 in Matroska), cached per process.</summary>
public static class TestVideos
{
    private static readonly Lazy<string> s_dir = new(() => Directory.CreateTempSubdirectory("llava-videos-").FullName);
    private static readonly Lock s_lock = new();

    /// <summary>A test-card video (<c>testsrc2</c>, 320×240, 10 fps, a key frame every second) of the codec, made once.</summary>
    public static string Make(string codec, int seconds = 120, int width = 320, int height = 240)
    {
        string path = Path.Combine(s_dir.Value, $"{codec}-{seconds}s-{width}x{height}.mkv");
        lock (s_lock)
        {
            if (!File.Exists(path))
            {
                string encoder = codec == "h265" ? "libx265 -x265-params log-level=error" : "libx264";
                Run("ffmpeg", $"-hide_banner -loglevel error -y -f lavfi -i testsrc2=size={width}x{height}:rate=10 -t {seconds} -c:v {encoder} -preset ultrafast -g 10 -pix_fmt yuv420p {path}.tmp.mkv");
                File.Move(path + ".tmp.mkv", path);
            }
        }

        return path;
    }

    internal static void Run(string program, string arguments)
    {
        using var p = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true, UseShellExecute = false })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {arguments} failed ({p.ExitCode}): {err}");
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}

/// <summary>
/// GStreamer's RTSP server (tests/Shared/Streams/rtsp_server.py, run by Debian's python3 with python3-gi) serving a
/// file ffmpeg made, as a camera does: RTP over TCP or UDP. It can be stopped and started again on the same port.
/// </summary>
public sealed class RtspTestServer : IDisposable
{
    private readonly string _file;
    private readonly string _codec;
    private Process? _process;

    public RtspTestServer(string codec = "h264", int seconds = 120)
    {
        _codec = codec;
        _file = TestVideos.Make(codec, seconds);
        Port = TestVideos.FreePort();
        Start();
    }

    public int Port { get; }

    public string Url => $"rtsp://127.0.0.1:{Port}/cam";

    public void Start()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "rtsp_server.py");
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { script, Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "/cam", _file, _codec })
        {
            info.ArgumentList.Add(a);
        }

        var sw = Stopwatch.StartNew();
        while (true)
        {
            Process p = Process.Start(info)!;
            string? line = p.StandardOutput.ReadLine();
            if (line == "ready")
            {
                _process = p;
                return;
            }

            // the port of a server just stopped can take a moment to be free again
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            p.Dispose();
            if (sw.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new InvalidOperationException($"the RTSP test server did not start: {line} {err}");
            }

            Thread.Sleep(200);
        }
    }

    /// <summary>Kills the server (every session and socket closes).</summary>
    public void Stop()
    {
        if (_process is { } p)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            p.Dispose();
            _process = null;
        }
    }

    /// <summary>
    /// A URL through a <see cref="StallingTcpProxy"/> (RTSP over TCP): stalling the proxy stops every byte while the
    /// sockets stay open. (Dropping packets inside the server is no stall: its RTCP then says BYE and the client ends.)
    /// </summary>
    public string UrlThrough(StallingTcpProxy proxy) => $"rtsp://127.0.0.1:{proxy.Port}/cam";

    public void Dispose() => Stop();
}

/// <summary>
/// A TCP proxy in front of a server that can stall: while <see cref="Stalled"/> it forwards nothing in either
/// direction but keeps every connection open — a camera whose network or firmware hangs without closing the socket.
/// </summary>
public sealed class StallingTcpProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = [];
    private volatile bool _stalled;

    public StallingTcpProxy(int targetPort)
    {
        _target = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public bool Stalled
    {
        get => _stalled;
        set => _stalled = value;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }

            lock (_clients)
            {
                _clients.Add(client);
                _clients.Add(upstream);
            }

            _ = PumpAsync(client.GetStream(), upstream.GetStream(), client, upstream);
            _ = PumpAsync(upstream.GetStream(), client.GetStream(), upstream, client);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, TcpClient a, TcpClient b)
    {
        byte[] buffer = new byte[65536];
        try
        {
            while (true)
            {
                while (_stalled)
                {
                    await Task.Delay(20, _stop.Token);
                }

                int n = await from.ReadAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    break;
                }

                while (_stalled)
                {
                    await Task.Delay(20, _stop.Token);   // what arrived during a stall is dropped, as a hung camera would
                    n = 0;
                }

                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
        }

        a.Dispose();
        b.Dispose();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_clients)
        {
            foreach (TcpClient c in _clients)
            {
                c.Dispose();
            }
        }

        _stop.Dispose();
    }
}

/// <summary>
/// An HTTP MJPEG camera (multipart/x-mixed-replace, as IP cameras and ESP32-CAM serve it) on a loopback port:
/// test-card JPEGs at 10 fps with the frame number drawn in. Counts requests; can stall (keeps the connection, sends nothing).
/// </summary>
public sealed class MjpegTestServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _requests;

    public MjpegTestServer(int width = 320, int height = 240)
    {
        Port = TestVideos.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(() => AcceptAsync(width, height));
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/video.mjpg";

    public int Requests => Volatile.Read(ref _requests);

    private volatile bool _stalled;

    /// <summary>While true, open connections stay open and receive nothing.</summary>
    public bool Stalled
    {
        get => _stalled;
        set => _stalled = value;
    }

    private async Task AcceptAsync(int width, int height)
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            Interlocked.Increment(ref _requests);
            _ = Task.Run(() => ServeAsync(context, width, height));
        }
    }

    private async Task ServeAsync(HttpListenerContext context, int width, int height)
    {
        const string boundary = "frameboundary";
        context.Response.ContentType = $"multipart/x-mixed-replace; boundary={boundary}";
        context.Response.SendChunked = true;
        using var mat = new Mat(height, width, MatType.CV_8UC3);
        try
        {
            for (int i = 0; !_stop.IsCancellationRequested; i++)
            {
                await Task.Delay(100, _stop.Token);
                if (Stalled)
                {
                    continue;
                }

                mat.SetTo(new Scalar(40, 90 + (i % 100), 160));
                Cv2.PutText(mat, i.ToString(System.Globalization.CultureInfo.InvariantCulture), new Point(20, height / 2), HersheyFonts.HersheySimplex, 2, Scalar.White, 3);
                Cv2.ImEncode(".jpg", mat, out byte[] jpeg);
                byte[] head = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {jpeg.Length}\r\n\r\n");
                await context.Response.OutputStream.WriteAsync(head, _stop.Token);
                await context.Response.OutputStream.WriteAsync(jpeg, _stop.Token);
                await context.Response.OutputStream.WriteAsync("\r\n"u8.ToArray(), _stop.Token);
                await context.Response.OutputStream.FlushAsync(_stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpListenerException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            try
            {
                context.Response.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }
}
