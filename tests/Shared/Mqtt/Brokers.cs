using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LlavaUhd.Edge.Messaging.Broker;

// Shared by the Messaging and Service test projects (compiled into both; see their .csproj).
namespace LlavaUhd.Edge.Tests.Mqtt;

/// <summary>Where a test broker listens and the credentials it accepts.</summary>
public interface IBrokerEndpoint
{
    int Port { get; }

    string Name { get; }
}

public static class TestPorts
{
    public const string User = "edge";
    public const string Password = "s3cret";

    public static int Free()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public static async Task WaitListeningAsync(int port, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (sw.Elapsed < timeout)
            {
                await Task.Delay(10);
            }
        }
    }
}

/// <summary>
/// A real mosquitto on a free loopback port: temp config with <c>allow_anonymous false</c>, a password file from
/// <c>mosquitto_passwd</c>, <c>set_tcp_nodelay true</c>, <c>user root</c>, no persistence. Can be stopped and restarted
/// on the same port.
/// </summary>
public sealed class MosquittoProcess : IBrokerEndpoint, IAsyncDisposable
{
    private readonly string _dir;
    private Process? _process;

    public MosquittoProcess()
        : this(null, null)
    {
    }

    /// <summary>
    /// With <paramref name="tls"/>: a TLS listener with the test CA's broker certificate that requires a client
    /// certificate from that CA (and still a password). With <paramref name="acl"/>: mosquitto's <c>acl_file</c>
    /// text; <paramref name="users"/> are added to the password file beside the usual test user.
    /// </summary>
    public MosquittoProcess(TestCertificates? tls, string? acl, params (string User, string Password)[] users)
        : this(tls, acl, persistent: false, users)
    {
    }

    /// <param name="persistent">Sessions and queued messages are saved on a graceful stop (<see cref="StopGracefullyAsync"/>) and restored at start.</param>
    public MosquittoProcess(TestCertificates? tls, string? acl, bool persistent, params (string User, string Password)[] users)
    {
        Port = TestPorts.Free();
        _dir = Directory.CreateTempSubdirectory("llava-mosq-").FullName;
        string passwd = Path.Combine(_dir, "passwd");
        Run("mosquitto_passwd", $"-b -c {passwd} {TestPorts.User} {TestPorts.Password}");
        foreach ((string user, string password) in users)
        {
            Run("mosquitto_passwd", $"-b {passwd} {user} {password}");
        }

        string extra = "";
        if (tls is not null)
        {
            extra += $"""
                cafile {tls.CaFile}
                certfile {tls.ServerCertFile}
                keyfile {tls.ServerKeyFile}
                require_certificate true
                tls_version tlsv1.2

                """;
        }

        if (acl is not null)
        {
            string aclFile = Path.Combine(_dir, "acl");
            File.WriteAllText(aclFile, acl);
            extra += $"acl_file {aclFile}\nlog_type notice\nlog_type information\nlog_type debug\n";
        }

        if (persistent)
        {
            extra += $"persistence true\npersistence_location {_dir}/\n";
        }

        File.WriteAllText(Path.Combine(_dir, "mosquitto.conf"), $"""
            per_listener_settings false
            listener {Port} 127.0.0.1
            allow_anonymous false
            password_file {passwd}
            log_dest file {Path.Combine(_dir, "mosquitto.log")}
            log_type error
            log_type warning
            user root
            set_tcp_nodelay true
            max_queued_messages 10000
            {extra}
            """);
    }

    public int Port { get; }

    public string Name => "mosquitto";

    public string Log => File.Exists(Path.Combine(_dir, "mosquitto.log")) ? File.ReadAllText(Path.Combine(_dir, "mosquitto.log")) : "";

    public static bool IsInstalled => File.Exists("/usr/sbin/mosquitto") || File.Exists("/usr/bin/mosquitto");

    public async Task StartAsync()
    {
        string exe = File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";
        _process = Process.Start(new ProcessStartInfo(exe, $"-c {Path.Combine(_dir, "mosquitto.conf")}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await TestPorts.WaitListeningAsync(Port, TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGTERM: mosquitto saves its persistence file and exits.</summary>
    public async Task StopGracefullyAsync()
    {
        if (_process is { HasExited: false } p)
        {
            Run("kill", $"-TERM {p.Id}");
            await p.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Run(string exe, string args)
    {
        using Process p = Process.Start(new ProcessStartInfo(exe, args) { UseShellExecute = false })!;
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{exe} {args} exited with {p.ExitCode}");
        }
    }
}

public sealed class MosquittoFixture : IBrokerEndpoint, IAsyncLifetime
{
    private readonly MosquittoProcess _broker = new();

    public int Port => _broker.Port;

    public string Name => "mosquitto";

    public Task InitializeAsync() => _broker.StartAsync();

    public Task DisposeAsync() => _broker.DisposeAsync().AsTask();
}

public sealed class EmbeddedBrokerFixture : IBrokerEndpoint, IAsyncLifetime
{
    private readonly EmbeddedBroker _broker;

    public EmbeddedBrokerFixture()
    {
        Port = TestPorts.Free();
        _broker = new EmbeddedBroker(Port, TestPorts.User, TestPorts.Password);
    }

    public int Port { get; }

    public string Name => "embedded";

    public Task InitializeAsync() => _broker.StartAsync();

    public Task DisposeAsync() => _broker.DisposeAsync().AsTask();
}

[CollectionDefinition(Name)]
public sealed class MosquittoCollection : ICollectionFixture<MosquittoFixture>
{
    public const string Name = "mosquitto";
}

[CollectionDefinition(Name)]
public sealed class EmbeddedCollection : ICollectionFixture<EmbeddedBrokerFixture>
{
    public const string Name = "embedded broker";
}
