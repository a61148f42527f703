using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Broker;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Options;
using LlavaUhd.Edge.Messaging.Outbox;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Benchmarks.Messaging;

/// <summary>
/// <c>dotnet run -c Release --project tests/LlavaUhd.Edge.Benchmarks -- messaging [--requests N] [--answers N]</c>:
/// question → answer round trips on loopback through <see cref="EdgeMqttClient"/> with a trivial handler, against a raw
/// MQTT echo on the same broker (the difference is the runtime's overhead outside the model), and outbox throughput
/// (answers persisted, published at QoS 1 and acknowledged per second) for each fsync policy; embedded broker and
/// mosquitto (when installed).
/// </summary>
public static class MessagingProbe
{
    internal const string User = "edge";
    internal const string Password = "bench";

    public static async Task<int> RunAsync(string[] args)
    {
        int requests = Arg(args, "--requests", 3000);
        int answers = Arg(args, "--answers", 5000);
        Console.WriteLine($"# messaging probe: {requests} requests, {answers} answers, {Environment.ProcessorCount} cores");
        Console.WriteLine("| broker | what | p50 | p90 | p99 | unit |");
        Console.WriteLine("|---|---|---|---|---|---|");

        int port = FreePort();
        await using (var embedded = new EmbeddedBroker(port, User, Password))
        {
            await embedded.StartAsync();
            await MeasureAsync("embedded", port, requests, answers);
        }

        if (File.Exists("/usr/sbin/mosquitto"))
        {
            string dir = Directory.CreateTempSubdirectory("llava-bench-mosq-").FullName;
            port = FreePort();
            using Process mosquitto = StartMosquitto(dir, port);
            try
            {
                await MeasureAsync("mosquitto", port, requests, answers);
            }
            finally
            {
                mosquitto.Kill();
                await mosquitto.WaitForExitAsync();
                Directory.Delete(dir, recursive: true);
            }
        }

        return 0;
    }

    private static async Task MeasureAsync(string broker, int port, int requests, int answers)
    {
        double[] raw = await RawEchoAsync(port, requests);
        Print(broker, "raw MQTT 5 echo round trip (no runtime)", raw, "ms");
        double[] ask = await AskAsync(port, requests);
        Print(broker, "question → answer round trip (EdgeMqttClient, trivial handler)", ask, "ms");
        double[] diff = [SampleStatistics.Percentile(ask, 50) - SampleStatistics.Percentile(raw, 50), SampleStatistics.Percentile(ask, 90) - SampleStatistics.Percentile(raw, 90), SampleStatistics.Percentile(ask, 99) - SampleStatistics.Percentile(raw, 99)];
        Console.WriteLine($"| {broker} | overhead (difference of the two) | {diff[0]:F3} | {diff[1]:F3} | {diff[2]:F3} | ms |");
        foreach (OutboxFsync fsync in new[] { OutboxFsync.Never, OutboxFsync.Interval, OutboxFsync.Always })
        {
            (double appendRate, double drainRate) = await OutboxThroughputAsync(port, answers, fsync);
            Console.WriteLine($"| {broker} | outbox, fsync {fsync}: append | {appendRate:F0} | | | answers/s |");
            Console.WriteLine($"| {broker} | outbox, fsync {fsync}: drain of stored answers (publish, PUBACK, remove) | {drainRate:F0} | | | answers/s |");
            Console.WriteLine($"| {broker} | outbox, fsync {fsync}: end to end (persisted, then acknowledged and removed) | {1 / ((1 / appendRate) + (1 / drainRate)):F0} | | | answers/s |");
        }
    }

    private static async Task<double[]> RawEchoAsync(int port, int n)
    {
        using IMqttClient responder = await ConnectAsync(port, "raw-responder");
        using IMqttClient requester = await ConnectAsync(port, "raw-requester");
        responder.ApplicationMessageReceivedAsync += e => responder.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(e.ApplicationMessage.ResponseTopic).WithCorrelationData(e.ApplicationMessage.CorrelationData)
            .WithPayload(e.ApplicationMessage.Payload.ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await responder.SubscribeAsync("bench/raw/ask", MqttQualityOfServiceLevel.AtLeastOnce);
        return await RoundTripsAsync(requester, "bench/raw/ask", "bench/raw/reply", n);
    }

    private static async Task<double[]> AskAsync(int port, int n)
    {
        MqttOptions options = Options(port, OutboxFsync.Interval);
        using AnswerOutbox outbox = AnswerOutbox.Open(options.Outbox);
        await using var device = new EdgeMqttClient(options, ["cam1"], outbox, new TrivialHandler());
        await device.StartAsync();
        await device.WaitConnectedAsync();
        using IMqttClient requester = await ConnectAsync(port, "ask-requester");
        try
        {
            return await RoundTripsAsync(requester, device.Topics.Ask("cam1"), "bench/ask/reply", n);
        }
        finally
        {
            await device.StopAsync();
            Directory.Delete(options.Outbox.Directory, recursive: true);
        }
    }

    private static async Task<double[]> RoundTripsAsync(IMqttClient requester, string askTopic, string replyTopic, int n)
    {
        TaskCompletionSource? pending = null;
        requester.ApplicationMessageReceivedAsync += e =>
        {
            pending?.TrySetResult();
            return Task.CompletedTask;
        };
        await requester.SubscribeAsync(replyTopic, MqttQualityOfServiceLevel.AtLeastOnce);
        byte[] payload = """{"question":"Is the conveyor empty?","id":"bench"}"""u8.ToArray();
        int warmup = Math.Min(300, n / 5);
        var times = new double[n];
        for (int i = -warmup; i < n; i++)
        {
            pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            long t0 = Stopwatch.GetTimestamp();
            await requester.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(askTopic).WithPayload(payload)
                .WithResponseTopic(replyTopic).WithCorrelationData(BitConverter.GetBytes(i))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            await pending.Task.WaitAsync(TimeSpan.FromSeconds(10));
            if (i >= 0)
            {
                times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }

        Array.Sort(times);
        return times;
    }

    private static async Task<(double Append, double Drain)> OutboxThroughputAsync(int port, int n, OutboxFsync fsync)
    {
        MqttOptions options = Options(port, fsync);
        using AnswerOutbox outbox = AnswerOutbox.Open(options.Outbox);
        await using var device = new EdgeMqttClient(options, ["cam1"], outbox, new TrivialHandler());
        var answer = new AnswerMessage
        {
            Id = Guid.CreateVersion7().ToString("N"),
            QuestionId = "q",
            Device = options.DeviceId,
            Camera = "cam1",
            Question = "Is the conveyor empty?",
            Answer = "No: two cardboard boxes and a pallet jack are on the left half of the belt.",
            Model = "smolvlm-256m-int8",
            PromptTokens = 700,
            CompletionTokens = 18,
            VisualTokens = 640,
            Timings = new AnswerTimings { EncodeMs = 41.2, PrefillMs = 80.1, DecodeMs = 150.3, TotalMs = 290.0 },
            FrameTimestamp = DateTimeOffset.UtcNow,
            AnswerTimestamp = DateTimeOffset.UtcNow,
            Roi = new RoiRect(0, 0, 1920, 1080),
        };

        // Appends alone (not connected yet), then the drain of the same answers once connected.
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            device.PublishAnswer(answer);
        }

        double append = n / Stopwatch.GetElapsedTime(t0).TotalSeconds;
        t0 = Stopwatch.GetTimestamp();
        await device.StartAsync();
        while (outbox.PendingCount > 0)
        {
            await Task.Delay(1);
        }

        double drain = n / Stopwatch.GetElapsedTime(t0).TotalSeconds;
        await device.StopAsync();
        Directory.Delete(options.Outbox.Directory, recursive: true);
        return (append, drain);
    }

    private static MqttOptions Options(int port, OutboxFsync fsync) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        EmbeddedBroker = false,
        TopicPrefix = "bench",
        DeviceId = "dev-" + Guid.NewGuid().ToString("N")[..6],
        Username = User,
        Password = Password,
        ReconnectMinDelayMs = 20,
        QuestionQueueCapacity = 64,
        Outbox = new OutboxOptions
        {
            Directory = Directory.CreateTempSubdirectory("llava-bench-outbox-").FullName,
            Fsync = fsync,
            FsyncIntervalMs = 100,
        },
    };

    private static async Task<IMqttClient> ConnectAsync(int port, string id)
    {
        IMqttClient c = new MqttClientFactory().CreateMqttClient();
        await c.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(id + Guid.NewGuid().ToString("N")[..4])
            .WithProtocolVersion(MqttProtocolVersion.V500).WithCredentials(User, Password).Build());
        return c;
    }

    internal static Process StartMosquitto(string dir, int port)
    {
        string passwd = Path.Combine(dir, "passwd");
        using (Process p = Process.Start("mosquitto_passwd", $"-b -c {passwd} {User} {Password}"))
        {
            p.WaitForExit();
        }

        string conf = Path.Combine(dir, "mosquitto.conf");
        File.WriteAllText(conf, $"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\npersistence false\nuser root\nset_tcp_nodelay true\nlog_type error\nmax_queued_messages 100000\n");
        Process m = Process.Start(new ProcessStartInfo("/usr/sbin/mosquitto", $"-c {conf}") { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException)
            {
                Thread.Sleep(10);
            }
        }

        return m;
    }

    private static void Print(string broker, string what, double[] values, string unit) =>
        Console.WriteLine($"| {broker} | {what} | {SampleStatistics.Percentile(values, 50):F3} | {SampleStatistics.Percentile(values, 90):F3} | {SampleStatistics.Percentile(values, 99):F3} | {unit} |");

    /// <summary>A free loopback port (the probes' brokers listen there).</summary>
    internal static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private sealed class TrivialHandler : IQuestionHandler
    {
        public ValueTask<QuestionAnswer> AnswerAsync(Question question, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new QuestionAnswer { Answer = "yes", Model = "trivial", CompletionTokens = 1 });
    }
}
