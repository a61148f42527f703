using System.Diagnostics;
using System.Globalization;
using System.Text;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Service.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Tests.Infrastructure;

/// <summary>The whole service, built in-process by <c>Program.Build</c> with test overrides, started and stopped by a test.</summary>
public sealed class ServiceHarness : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _outbox;
    private bool _stopped;

    private ServiceHarness(IHost host, string deviceId, string outbox)
    {
        _host = host;
        DeviceId = deviceId;
        _outbox = outbox;
    }

    public string DeviceId { get; }

    public string Topic(string rest) => $"llavauhd/{DeviceId}/{rest}";

    public IServiceProvider Services => _host.Services;

    /// <summary>
    /// Args that point the service at a test broker (or its own embedded one when <paramref name="port"/> is set and
    /// <paramref name="embedded"/>), a 320×240 test pattern camera and the tiny generated model.
    /// </summary>
    public static List<string> Args(int port, bool embedded, string deviceId, string outbox, params string[] extra) =>
        Args(port, embedded, deviceId, outbox, camera: true, extra);

    /// <summary><paramref name="camera"/> false: no Capture section (the decoder role).</summary>
    public static List<string> Args(int port, bool embedded, string deviceId, string outbox, bool camera, params string[] extra)
    {
        var args = new List<string>
        {
            $"--Mqtt:EmbeddedBroker={embedded.ToString().ToLowerInvariant()}",
            $"--Mqtt:Host=127.0.0.1",
            string.Create(CultureInfo.InvariantCulture, $"--Mqtt:Port={port}"),
            $"--Mqtt:Username={TestPorts.User}",
            $"--Mqtt:Password={TestPorts.Password}",
            $"--Mqtt:DeviceId={deviceId}",
            $"--Mqtt:ReconnectMinDelayMs=50",
            $"--Mqtt:ReconnectMaxDelayMs=500",
            $"--Mqtt:Outbox:Directory={outbox}",
            $"--Inference:Model={TinyModel.Dir}",
            "--Inference:MaxNewTokens=4",
            "--Http:Port=0",   // the demo defaults listen on 8080; a test that wants HTTP passes a free port after this
        };
        if (camera)
        {
            args.AddRange(["--Capture:Cameras:0:Id=cam0", "--Capture:Cameras:0:Source=testpattern:320x240", "--Capture:Cameras:0:Fps=20", "--Capture:Cameras:0:OnEnd=Reconnect"]);
        }

        args.AddRange(extra);
        return args;
    }

    public static Task<ServiceHarness> StartAsync(int port, bool embedded, IVisionLanguageModel? model = null, params string[] extra) =>
        StartAsync(port, embedded, model, camera: true, extra);

    /// <summary><paramref name="camera"/> false: without the test-pattern camera (a decoder).</summary>
    public static Task<ServiceHarness> StartAsync(int port, bool embedded, IVisionLanguageModel? model, bool camera, params string[] extra) =>
        StartAsDeviceAsync("dev-" + Guid.NewGuid().ToString("N")[..8], port, embedded, model, camera, extra);

    /// <summary>As <see cref="StartAsync(int, bool, IVisionLanguageModel?, bool, string[])"/> with a given device id (a restart of the same device).</summary>
    public static async Task<ServiceHarness> StartAsDeviceAsync(string device, int port, bool embedded, IVisionLanguageModel? model, bool camera, params string[] extra)
    {
        string outbox = Directory.CreateTempSubdirectory("llava-svc-outbox-").FullName;
        List<string> args = Args(port, embedded, device, outbox, camera, extra);
        IHost host = Program.Build(
            [.. args],
            model is null ? null : (_, _) => model,
            logging => logging.SetMinimumLevel(LogLevel.Warning));
        var harness = new ServiceHarness(host, device, outbox);
        await host.StartAsync();
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await harness.Get<EdgeMqttClient>().WaitConnectedAsync(connected.Token);   // subscribed: questions from now on are heard
        return harness;
    }

    /// <summary>
    /// The service without MQTT (docs/architecture.md): as <see cref="StartAsync(int, bool, IVisionLanguageModel?, string[])"/>
    /// — the test-pattern camera, the tiny generated model unless <paramref name="model"/> — but with no broker and no
    /// client: it publishes through a <see cref="RecordingPublisher"/> (<see cref="Recorder"/>).
    /// </summary>
    public static async Task<ServiceHarness> StartWithoutBrokerAsync(IVisionLanguageModel? model, params string[] extra)
    {
        string device = "dev-" + Guid.NewGuid().ToString("N")[..8];
        var port = new RecordingPublisher(new MqttTopics("llavauhd", device));
        string outbox = Directory.CreateTempSubdirectory("llava-svc-outbox-").FullName;
        List<string> args = Args(port: 1, embedded: false, device, outbox, camera: true, extra);   // the broker's address is never used
        IHost host = Program.Build(
            [.. args],
            model is null ? null : (_, _) => model,
            logging => logging.SetMinimumLevel(LogLevel.Warning),
            port);
        var harness = new ServiceHarness(host, device, outbox);
        await host.StartAsync();
        return harness;
    }

    public T Get<T>()
        where T : notnull => _host.Services.GetRequiredService<T>();

    /// <summary>The outbound port of a service started by <see cref="StartWithoutBrokerAsync"/>.</summary>
    public RecordingPublisher Recorder => (RecordingPublisher)Get<IEdgePublisher>();

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_host is IAsyncDisposable d)
        {
            await d.DisposeAsync();
        }
        else
        {
            _host.Dispose();
        }

        try
        {
            Directory.Delete(_outbox, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The built service run as a child process (<c>dotnet LlavaUhd.Edge.Service.dll …</c>), for death and exit tests.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process)
    {
        _process = process;
    }

    public static string RepoRoot
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir, "LlavaUhd.Edge.sln")))
            {
                dir = System.IO.Path.GetDirectoryName(dir);
            }

            return dir ?? throw new InvalidOperationException("repository root not found");
        }
    }

    /// <summary>The service as copied next to the tests by the project reference (with its runtimeconfig and deps).</summary>
    public static string ServiceDll => System.IO.Path.Combine(AppContext.BaseDirectory, "LlavaUhd.Edge.Service.dll");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <param name="wrapper">A command that runs the rest (program and arguments first), e.g. <c>unshare … sh -c …</c>.</param>
    public static ServiceProcess Start(IEnumerable<string> args, string? workingDirectory = null, IReadOnlyList<string>? wrapper = null)
    {
        var info = new ProcessStartInfo(wrapper is null ? "dotnet" : wrapper[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoRoot,
        };
        if (wrapper is not null)
        {
            foreach (string w in wrapper.Skip(1))
            {
                info.ArgumentList.Add(w);
            }

            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(ServiceDll);
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        Process p = Process.Start(info) ?? throw new InvalidOperationException("the service did not start");
        var sp = new ServiceProcess(p);
        p.OutputDataReceived += (_, e) => sp.Append(e.Data);
        p.ErrorDataReceived += (_, e) => sp.Append(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return sp;
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            _process.WaitForExit();   // flushes the redirected output
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL: the process dies without a clean MQTT disconnect.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: a normal stop (the service drains its outbox and exits).</summary>
    public void Terminate()
    {
        using Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public int Id => _process.Id;

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
