using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using LlavaUhd.Edge.Messaging.Options;
using LlavaUhd.Edge.Messaging.Outbox;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using LlavaUhd.Edge.Tests.Streams;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Xunit.Abstractions;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>
/// The fault suite: the real service process under <c>kill -9</c>, broker restarts, a camera vanishing and returning,
/// a full disk under its outbox and a corrupt outbox — counting answers produced, delivered, duplicated and lost
/// (lost must be 0). Each test prints its counts.
/// </summary>
public sealed class ServiceFaultTests(ITestOutputHelper output)
{
    /// <summary>An asker with a persistent session (it keeps its subscriptions and queued replies across broker restarts).</summary>
    private sealed class Asker : IAsyncDisposable
    {
        private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
        private readonly MqttClientOptions _options;
        private readonly string[] _filters;

        public Asker(int port, params string[] filters)
        {
            _filters = filters;
            _options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port)
                .WithClientId("asker-" + Guid.NewGuid().ToString("N")[..8]).WithProtocolVersion(MqttProtocolVersion.V500)
                .WithCredentials(TestPorts.User, TestPorts.Password).WithCleanStart(false).WithSessionExpiryInterval(3600)
                .WithTimeout(TimeSpan.FromSeconds(5)).Build();
            _client.ApplicationMessageReceivedAsync += e =>
            {
                Received.Enqueue(e.ApplicationMessage);
                return Task.CompletedTask;
            };
        }

        public ConcurrentQueue<MqttApplicationMessage> Received { get; } = new();

        public bool IsConnected => _client.IsConnected;

        public async Task ConnectAsync()
        {
            MqttClientConnectResult r = await _client.ConnectAsync(_options);
            Assert.Equal(MqttClientConnectResultCode.Success, r.ResultCode);
            if (!r.IsSessionPresent)
            {
                foreach (string f in _filters)
                {
                    await _client.SubscribeAsync(f, MqttQualityOfServiceLevel.AtLeastOnce);
                }
            }
        }

        public async Task<bool> TryAskAsync(string topic, string id, string replyTo)
        {
            try
            {
                MqttClientPublishResult r = await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic)
                    .WithPayload($$"""{"question":"Fault suite {{id}}?","id":"{{id}}","max_tokens":2}""")
                    .WithResponseTopic(replyTo).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                return r.IsSuccess;
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Exceptions.MqttClientNotConnectedException or OperationCanceledException)
            {
                return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_client.IsConnected)
            {
                await _client.DisconnectAsync();
            }

            _client.Dispose();
        }
    }

    private sealed record Counts(int Asked, int Answered, int Errors, int Duplicates, int Lost, IReadOnlyList<string> ErrorTexts)
    {
        public override string ToString() =>
            $"asked {Asked}, answered {Answered}, error replies {Errors}, duplicate replies {Duplicates}, lost {Lost}"
            + (ErrorTexts.Count > 0 ? $" (errors: {string.Join("; ", ErrorTexts.Distinct().Take(3))})" : "");
    }

    private static Counts Count(IEnumerable<string> asked, IEnumerable<MqttApplicationMessage> replies, string replyTopic)
    {
        var answered = new HashSet<string>();
        var errors = new HashSet<string>();
        var texts = new List<string>();
        int total = 0;
        foreach (MqttApplicationMessage m in replies.Where(m => m.Topic == replyTopic))
        {
            JsonElement e = JsonDocument.Parse(m.ConvertPayloadToString()).RootElement;
            string id = e.GetProperty("question_id").GetString()!;
            total++;
            if (e.TryGetProperty("error", out JsonElement code))
            {
                errors.Add(id);
                texts.Add($"{code.GetString()} on {e.GetProperty("camera").GetString()}: {e.GetProperty("message").GetString()}");
            }
            else
            {
                answered.Add(id);
            }
        }

        var set = asked.ToHashSet();
        int replied = set.Count(id => answered.Contains(id) || errors.Contains(id));
        return new Counts(set.Count, answered.Count, errors.Except(answered).Count(), total - answered.Union(errors).Count(), set.Count - replied, texts);
    }

    private static async Task WaitForAsync(Func<bool> condition, double seconds)
    {
        var sw = Stopwatch.StartNew();
        while (!condition() && sw.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task KillNine_BrokerRestarts_AndACameraVanishing_WhileAsking_LoseNothing()
    {
        await using var broker = new MosquittoProcess(null, null, persistent: true);
        await broker.StartAsync();
        using var rtsp = new RtspTestServer("h264");
        string device = "fault-" + Guid.NewGuid().ToString("N")[..8];
        string outbox = Directory.CreateTempSubdirectory("llava-fault-").FullName;
        const string replies = "replies/fault";
        await using var asker = new Asker(broker.Port, replies, $"llavauhd/{device}/available");
        await asker.ConnectAsync();
        List<string> args = ServiceHarness.Args(broker.Port, false, device, outbox,
            "--Service:QueueDepth=64", "--Mqtt:QuestionQueueCapacity=128", "--Mqtt:QuestionWorkers=16", "--Capture:Cameras:1:Id=ip", $"--Capture:Cameras:1:Source={rtsp.Url}",
            "--Capture:Cameras:1:InitialBackoffMs=200", "--Capture:Cameras:1:MaxBackoffMs=1000");

        var asked = new List<string>();
        int n = 0;
        async Task AskAsync(int count, double perSecond)
        {
            for (int i = 0; i < count; i++)
            {
                string id = $"q-{n++:D4}";
                string camera = n % 2 == 0 ? "cam0" : "ip";
                if (await asker.TryAskAsync($"llavauhd/{device}/{camera}/ask", id, replies))
                {
                    asked.Add(id);   // only asks the broker took count: the rest never left the asker
                }

                await Task.Delay(TimeSpan.FromSeconds(1 / perSecond));
            }
        }

        ServiceProcess service = ServiceProcess.Start(args);
        int kills = 0;
        Counts? beforeBrokerRestart = null;
        try
        {
            await WaitForAsync(() => asker.Received.Any(m => m.ConvertPayloadToString() == "online"), 60);
            for (int cycle = 0; cycle < 3; cycle++)
            {
                await AskAsync(10, 8);          // answers being made and published when ...
                service.Kill();                 // ... kill -9 lands
                kills++;
                await service.DisposeAsync();
                await AskAsync(5, 20);          // asks while the service is dead: the broker keeps them for its session
                service = ServiceProcess.Start(args);
            }

            await AskAsync(10, 8);
            rtsp.Stop();                        // the network camera vanishes ...
            await AskAsync(10, 8);
            rtsp.Start();                       // ... and returns
            await WaitForAsync(() => Count(asked, asker.Received, replies).Lost == 0, 60);
            beforeBrokerRestart = Count(asked, asker.Received, replies);
            await broker.StopGracefullyAsync(); // the broker restarts (its persistence keeps both sessions)
            await Task.Delay(2000);
            await broker.StartAsync();
            await asker.ConnectAsync();
            await AskAsync(10, 8);

            await WaitForAsync(() => Count(asked, asker.Received, replies).Lost == 0, 90);
            service.Terminate();
            Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            await service.DisposeAsync();
        }

        Counts counts = Count(asked, asker.Received, replies);
        output.WriteLine($"kill -9 x{kills} and a camera gone and back: {beforeBrokerRestart}");
        output.WriteLine($"... then one broker restart (mosquitto with persistence, SIGTERM): {counts}");
        Assert.Equal(0, counts.Lost);
        Assert.True(counts.Asked >= 60, counts.ToString());
        // the only error a reply may carry: the network camera had no frame yet right after a restart (Service:FrameWaitMs)
        Assert.All(counts.ErrorTexts, t => Assert.StartsWith("rejected on ip: Camera 'ip' has no frame yet", t, StringComparison.Ordinal));
        Assert.True(counts.Answered >= counts.Asked * 3 / 4, counts.ToString());
    }

    [Fact]
    public async Task AFullDiskUnderTheOutbox_DoesNotLoseAnswers_AndTheOutboxResumesWhenSpaceReturns()
    {
        await using var broker = new MosquittoProcess();
        await broker.StartAsync();
        string device = "disk-" + Guid.NewGuid().ToString("N")[..8];
        string outbox = Directory.CreateTempSubdirectory("llava-fulldisk-").FullName;
        const string replies = "replies/disk";
        await using var asker = new Asker(broker.Port, replies, $"llavauhd/{device}/available");
        await asker.ConnectAsync();
        // the service runs in its own mount namespace with a 256 KiB tmpfs as its outbox, filled to the last byte;
        // the filler is removed after 20 s (space returns)
        string script = "mount -t tmpfs -o size=256k tmpfs \"$1\" && dd if=/dev/zero of=\"$1/fill\" bs=4k 2>/dev/null; "
            + "(sleep 20; rm -f \"$1/fill\") & shift; exec \"$@\"";
        string[] wrapper = ["unshare", "--map-root-user", "--mount", "sh", "-c", script, "sh", outbox];
        await using ServiceProcess service = ServiceProcess.Start(ServiceHarness.Args(broker.Port, false, device, outbox, "--Service:QueueDepth=64", "--Mqtt:QuestionQueueCapacity=64"), wrapper: wrapper);
        await WaitForAsync(() => asker.Received.Any(m => m.ConvertPayloadToString() == "online") || service.HasExited, 60);
        Assert.False(service.HasExited, service.Output);

        var asked = new List<string>();
        for (int i = 0; i < 20; i++)
        {
            string id = $"full-{i}";
            Assert.True(await asker.TryAskAsync($"llavauhd/{device}/cam0/ask", id, replies));
            asked.Add(id);
            await Task.Delay(100);
        }

        await WaitForAsync(() => Count(asked, asker.Received, replies).Lost == 0, 30);
        Assert.Contains("cannot write", service.Output, StringComparison.Ordinal);
        Assert.Contains("No space left on device", service.Output, StringComparison.Ordinal);

        await WaitForAsync(() => service.Output.Contains("writing works again", StringComparison.Ordinal), 40);
        for (int i = 20; i < 30; i++)
        {
            string id = $"full-{i}";
            Assert.True(await asker.TryAskAsync($"llavauhd/{device}/cam0/ask", id, replies));
            asked.Add(id);
        }

        await WaitForAsync(() => Count(asked, asker.Received, replies).Lost == 0, 30);
        Counts counts = Count(asked, asker.Received, replies);
        output.WriteLine($"full disk for 20 s, then space: {counts}");
        Assert.Contains("writing works again", service.Output, StringComparison.Ordinal);
        Assert.Equal(0, counts.Lost);
        Assert.Equal(counts.Asked, counts.Answered);
    }

    [Fact]
    public async Task ACorruptOutbox_TornTailAndBrokenAckFile_IsRecovered_EveryStoredAnswerDelivered()
    {
        var broker = new MosquittoProcess();
        await broker.StartAsync();
        try
        {
            string device = "corrupt-" + Guid.NewGuid().ToString("N")[..8];
            string outbox = Directory.CreateTempSubdirectory("llava-corrupt-").FullName;
            List<string> args = ServiceHarness.Args(broker.Port, false, device, outbox,
                "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Question=Anything?", "--Service:Questions:0:IntervalSeconds=0.2");
            ServiceProcess service = ServiceProcess.Start(args);
            await using (TestClient watcher = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, $"llavauhd/{device}/cam0/answer"))
            {
                await watcher.NextAsync(timeoutSeconds: 60);   // answering
            }

            await broker.StopAsync();            // answers pile up in the outbox ...
            await Poll.UntilAsync(() => StoredAnswerIds(outbox).Count >= 5, 60);
            service.Kill();                      // ... and the service dies
            await service.DisposeAsync();

            // what the outbox holds, read from a copy of its directory
            List<string> stored = StoredAnswerIds(outbox);
            Assert.True(stored.Count >= 5, $"{stored.Count} answers stored");

            // a torn record at the end of the newest segment (a write cut by power loss) and a broken ack file
            string newest = Directory.GetFiles(outbox, "seg-*.log").Order(StringComparer.Ordinal).Last(f => new FileInfo(f).Length > 0);
            await File.AppendAllTextAsync(newest, "UBOX\u0001\u0002 torn");
            await File.WriteAllBytesAsync(Path.Combine(outbox, "acked"), [1, 2, 3]);

            await broker.StartAsync();
            await using TestClient subscriber = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, $"llavauhd/{device}/cam0/answer");
            await using ServiceProcess restarted = ServiceProcess.Start(args);
            var delivered = new HashSet<string>();
            int messages = 0;
            var sw = Stopwatch.StartNew();
            while (!stored.All(delivered.Contains) && sw.Elapsed < TimeSpan.FromSeconds(60))
            {
                MqttApplicationMessage m = await subscriber.NextAsync(timeoutSeconds: 60);
                messages++;
                delivered.Add(JsonDocument.Parse(m.ConvertPayloadToString()).RootElement.GetProperty("id").GetString()!);
            }

            int lost = stored.Count(id => !delivered.Contains(id));
            output.WriteLine($"stored {stored.Count} answers before the crash; after the torn tail and the broken ack file: delivered {stored.Count - lost} of them, lost {lost} ({messages} messages received in all)");
            Assert.Equal(0, lost);
            Assert.Contains("torn or corrupt record", restarted.Output, StringComparison.Ordinal);
        }
        finally
        {
            await broker.DisposeAsync();
        }
    }

    /// <summary>The answer ids pending in an outbox, read through the outbox itself from a copy of its directory.</summary>
    private static List<string> StoredAnswerIds(string outbox)
    {
        string copy = Directory.CreateTempSubdirectory("llava-outbox-copy-").FullName;
        foreach (string f in Directory.GetFiles(outbox))
        {
            File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        }

        var ids = new List<string>();
        using (AnswerOutbox box = AnswerOutbox.Open(new OutboxOptions { Directory = copy }))
        {
            while (box.TryPeek(out OutboxEntry entry))
            {
                ids.Add(JsonDocument.Parse(entry.Message.Payload).RootElement.GetProperty("id").GetString()!);
                box.Acknowledge(entry.Sequence);
            }
        }

        Directory.Delete(copy, recursive: true);
        return ids;
    }
}
