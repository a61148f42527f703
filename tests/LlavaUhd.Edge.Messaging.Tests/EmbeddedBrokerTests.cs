using System.Buffers;
using System.Text;
using LlavaUhd.Edge.Messaging.Broker;
using LlavaUhd.Edge.Messaging.Options;
using LlavaUhd.Edge.Messaging.Outbox;
using LlavaUhd.Edge.Messaging.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Messaging.Tests;

public sealed class EmbeddedBrokerTests
{
    [Fact]
    public async Task RefusesBadCredentials()
    {
        int port = TestPorts.Free();
        await using var broker = new EmbeddedBroker(port, "edge", "right");
        await broker.StartAsync();
        using IMqttClient client = new MqttClientFactory().CreateMqttClient();
        MqttClientConnectResult r = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port).WithCredentials("edge", "wrong").Build());
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, r.ResultCode);
    }

    /// <summary>
    /// What the broker accepted just before it stops still reaches its subscribers (a Sparkplug NDEATH, the last
    /// answers): a burst published at QoS 1 and acknowledged, then an immediate stop.
    /// </summary>
    [Fact]
    public async Task Stop_DeliversWhatItAcceptedFirst()
    {
        int port = TestPorts.Free();
        await using var broker = new EmbeddedBroker(port, null, null);
        await broker.StartAsync();
        var factory = new MqttClientFactory();
        using IMqttClient subscriber = factory.CreateMqttClient();
        using IMqttClient publisher = factory.CreateMqttClient();
        int received = 0;
        subscriber.ApplicationMessageReceivedAsync += _ =>
        {
            Interlocked.Increment(ref received);
            return Task.CompletedTask;
        };
        MqttClientOptions Options(string id) => new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(id).WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build();
        await subscriber.ConnectAsync(Options("sub"));
        await subscriber.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("last/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await publisher.ConnectAsync(Options("pub"));

        // all at once, so the broker holds a queue for the subscriber when every PUBACK is in
        const int burst = 300;
        byte[] payload = new byte[64 * 1024];
        MqttClientPublishResult[] results = await Task.WhenAll(Enumerable.Range(0, burst).Select(i =>
            publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"last/{i}").WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build())));
        Assert.All(results, r => Assert.True(r.IsSuccess));

        await broker.StopAsync(TimeSpan.FromSeconds(20));   // the service's stop allows 2 s; a loaded test machine more
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref received) < burst && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(20);   // what is on the wire arrives after the broker has stopped
        }

        Assert.Equal(burst, Volatile.Read(ref received));
    }

    [Theory]
    [InlineData("5")]
    [InlineData("311")]
    public async Task MosquittoClients_WithoutAClientId_CanSubscribeAndPublish(string version)
    {
        int port = TestPorts.Free();
        await using var broker = new EmbeddedBroker(port, null, null);
        await broker.StartAsync();
        using var sub = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mosquitto_sub", ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-V", version, "-t", "demo/#", "-C", "1", "-W", "20"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string received = string.Empty;
        Task<string> read = sub.StandardOutput.ReadToEndAsync();
        for (int i = 0; i < 40 && !read.IsCompleted; i++)
        {
            await Task.Delay(250);   // until the subscription is in place: publish again until it is heard
            using var pub = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mosquitto_pub", ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-V", version, "-t", "demo/x", "-m", "hello"])
            {
                RedirectStandardError = true,
            })!;
            string err = await pub.StandardError.ReadToEndAsync();
            await pub.WaitForExitAsync();
            Assert.True(pub.ExitCode == 0, $"mosquitto_pub -V {version}: {err}");
        }

        received = await read;
        await sub.WaitForExitAsync();
        Assert.True(sub.ExitCode == 0, await sub.StandardError.ReadToEndAsync());
        Assert.Equal("hello", received.Trim());
    }

    [Fact]
    public async Task UnreachableBroker_IsLoggedAtOnce_WithTheReasonAndTheNextAttempt()
    {
        int port = TestPorts.Free();   // nothing listens there
        MqttOptions options = TestDevice.NewOptions(port);
        var log = new CapturingLogger<EdgeMqttClient>();
        using AnswerOutbox outbox = AnswerOutbox.Open(options.Outbox);
        await using var client = new EdgeMqttClient(options, TestDevice.Cameras, outbox, new EchoHandler(), logger: log);
        await client.StartAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (log.Lines.Count(l => l.Text.Contains("cannot connect", StringComparison.Ordinal)) < 2 && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }

        string[] lines = [.. log.Lines.Where(l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning).Select(l => l.Text).Where(t => t.Contains("cannot connect", StringComparison.Ordinal))];
        Assert.True(lines.Length >= 2, string.Join("\n", log.Lines.Select(l => l.Text)));
        Assert.Contains($"127.0.0.1:{port}", lines[0], StringComparison.Ordinal);
        Assert.Contains("attempt 1, next in", lines[0], StringComparison.Ordinal);
        Assert.Contains("attempt 2, next in", lines[1], StringComparison.Ordinal);
        Assert.Contains("refused", lines[0], StringComparison.OrdinalIgnoreCase);   // the reason: connection refused
        await client.StopAsync();
    }

    [Fact]
    public async Task RetainedMessages_SurviveRestart_WhenPersisted()
    {
        int port = TestPorts.Free();
        string file = Path.Combine(Directory.CreateTempSubdirectory("llava-retained-").FullName, "retained.json");
        await using (var broker = new EmbeddedBroker(port, TestPorts.User, TestPorts.Password, file))
        {
            await broker.StartAsync();
            await using TestClient publisher = await TestClient.ConnectAsync(port);
            await publisher.Client.PublishStringAsync("llavauhd/d1/status", "{\"model\":\"m\"}", MqttQualityOfServiceLevel.AtLeastOnce, retain: true);
            await BrokerScenarios.WaitUntilAsync(() => File.Exists(file));
        }

        await using var restarted = new EmbeddedBroker(port, TestPorts.User, TestPorts.Password, file);
        await restarted.StartAsync();
        await using TestClient late = await TestClient.ConnectAsync(port, filters: "llavauhd/d1/status");
        MqttApplicationMessage m = await late.NextAsync();
        Assert.True(m.Retain);
        Assert.Equal("{\"model\":\"m\"}", Encoding.UTF8.GetString(m.Payload.ToArray()));
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }
}
