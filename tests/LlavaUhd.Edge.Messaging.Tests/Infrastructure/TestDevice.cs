using LlavaUhd.Edge.Messaging.Options;
using LlavaUhd.Edge.Messaging.Outbox;

namespace LlavaUhd.Edge.Messaging.Tests.Infrastructure;

/// <summary>An <see cref="EdgeMqttClient"/> with its own outbox directory and device id, against a test broker.</summary>
public sealed class TestDevice : IAsyncDisposable
{
    public static readonly string[] Cameras = ["cam1", "cam2"];

    private TestDevice(MqttOptions options, AnswerOutbox outbox, EdgeMqttClient client, bool ownsDirectory)
    {
        Options = options;
        Outbox = outbox;
        Client = client;
        OwnsDirectory = ownsDirectory;
    }

    public MqttOptions Options { get; }

    public AnswerOutbox Outbox { get; }

    public EdgeMqttClient Client { get; }

    public MqttTopics Topics => Client.Topics;

    private bool OwnsDirectory { get; }

    public static MqttOptions NewOptions(int port, string? outboxDir = null, string? deviceId = null) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        EmbeddedBroker = false,
        TopicPrefix = "llavauhd-test",
        DeviceId = deviceId ?? "dev-" + Guid.NewGuid().ToString("N")[..8],
        Username = TestPorts.User,
        Password = TestPorts.Password,
        KeepAliveSeconds = 5,
        TimeoutSeconds = 5,
        ReconnectMinDelayMs = 50,
        ReconnectMaxDelayMs = 400,
        MaxPayloadBytes = 4096,
        Outbox = new OutboxOptions
        {
            Directory = outboxDir ?? Directory.CreateTempSubdirectory("llava-outbox-").FullName,
            SegmentBytes = 64 * 1024,
            MaxBytes = 16 * 1024 * 1024,
            Fsync = OutboxFsync.Interval,
            FsyncIntervalMs = 50,
        },
    };

    public static async Task<TestDevice> StartAsync(MqttOptions options, IQuestionHandler? handler = null, bool waitConnected = true, bool ownsDirectory = true)
    {
        AnswerOutbox outbox = AnswerOutbox.Open(options.Outbox);
        var client = new EdgeMqttClient(options, Cameras, outbox, handler ?? new EchoHandler());
        await client.StartAsync();
        if (waitConnected)
        {
            await client.WaitConnectedAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        return new TestDevice(options, outbox, client, ownsDirectory);
    }

    /// <summary>Simulates a crash: drops the connection without DISCONNECT and closes the outbox without draining.</summary>
    public async Task CrashAsync()
    {
        await Client.DisposeAsync();
        Outbox.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await Client.StopAsync();
        await Client.DisposeAsync();
        Outbox.Dispose();
        if (OwnsDirectory)
        {
            try
            {
                Directory.Delete(Options.Outbox.Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
