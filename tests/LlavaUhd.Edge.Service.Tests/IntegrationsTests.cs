using System.Buffers;
using System.Text.Json;
using Google.Protobuf;
using LlavaUhd.Edge.Messaging.HomeAssistant;
using LlavaUhd.Edge.Messaging.SparkplugB;
using LlavaUhd.Edge.Messaging.SparkplugB.Protobuf;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;
using Xunit.Abstractions;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>The service's Sparkplug B node and Home Assistant discovery against a real mosquitto (docs/sparkplug-b.md, docs/home-assistant.md).</summary>
[Collection(MosquittoCollection.Name)]
public sealed class IntegrationsTests(MosquittoFixture broker, ITestOutputHelper output)
{
    private static readonly string[] s_questions =
    [
        "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Name=door", "--Service:Questions:0:Question=Is the door open?",
        "--Service:Questions:0:AnswerType=yes_no", "--Service:Questions:0:IntervalSeconds=0.3",
        "--Service:Questions:1:Camera=cam0", "--Service:Questions:1:Name=parcels", "--Service:Questions:1:Question=How many parcels?",
        "--Service:Questions:1:AnswerType=number", "--Service:Questions:1:Integer=true", "--Service:Questions:1:IntervalSeconds=0.3",
    ];

    private static Payload Decode(MqttApplicationMessage m) => Payload.Parser.ParseFrom(m.Payload);

    private static string Type(MqttApplicationMessage m) => m.Topic.Split('/')[2];

    [Fact]
    public async Task SparkplugB_BirthsBeforeData_SeqInOrder_TypedValues_Rebirth_AndDeath()
    {
        string group = "g" + Guid.NewGuid().ToString("N")[..8];
        await using TestClient host = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, $"spBv1.0/{group}/#");
        ServiceHarness service = await ServiceHarness.StartAsync(broker.Port, embedded: false, null,
            [.. s_questions, "--Mqtt:SparkplugB:Enabled=true", $"--Mqtt:SparkplugB:GroupId={group}"]);
        ulong bdSeq;
        await using (service)
        {
            // until both standing questions were answered and a few more DDATA came (report by exception: an answer
            // text the same as the last one is not sent again, latency is)
            var messages = new List<MqttApplicationMessage>();
            var answered = new HashSet<string>(StringComparer.Ordinal);
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            while ((answered.Count < 2 || messages.Count(m => Type(m) == "DDATA") < 6) && deadline.Elapsed < TimeSpan.FromSeconds(90))
            {
                MqttApplicationMessage m = await host.NextAsync(timeoutSeconds: 60);
                messages.Add(m);
                if (Type(m) == "DDATA")
                {
                    answered.UnionWith(Decode(m).Metrics.Where(x => x.Name.EndsWith("/value", StringComparison.Ordinal)).Select(x => x.Name));
                }
            }

            Assert.Equal(["questions/door/value", "questions/parcels/value"], answered.Order(StringComparer.Ordinal));
            foreach (MqttApplicationMessage m in messages.Take(4))
            {
                // the decoded payloads, as quoted in docs/sparkplug-b.md
                output.WriteLine($"{m.Topic}\n{JsonFormatter.Default.Format(Decode(m))}");
            }

            string node = service.DeviceId;
            Assert.Equal($"spBv1.0/{group}/NBIRTH/{node}", messages[0].Topic);
            Assert.Equal($"spBv1.0/{group}/DBIRTH/{node}/cam0", messages[1].Topic);
            Assert.All(messages.Skip(2), m => Assert.Contains(Type(m), new[] { "DDATA", "NDATA" }));
            for (int i = 0; i < messages.Count; i++)
            {
                Assert.Equal((ulong)(i % 256), Decode(messages[i]).Seq);   // NBIRTH 0, then +1 per message of the node
            }

            Payload nbirth = Decode(messages[0]);
            bdSeq = nbirth.Metrics.Single(x => x.Name == SparkplugMetrics.BdSeq).LongValue;
            Assert.False(nbirth.Metrics.Single(x => x.Name == SparkplugMetrics.Rebirth).BooleanValue);
            Assert.Equal("tiny-smolvlm", nbirth.Metrics.Single(x => x.Name == SparkplugMetrics.Model).StringValue);
            Payload dbirth = Decode(messages[1]);
            Assert.Equal((uint)DataType.Boolean, dbirth.Metrics.Single(x => x.Name == "questions/door/value").Datatype);
            Assert.Equal((uint)DataType.Int64, dbirth.Metrics.Single(x => x.Name == "questions/parcels/value").Datatype);

            // every DDATA value carries the question's datatype, a value of that type (the tiny model's words are
            // arbitrary, its typed answers valid), and a timestamp
            foreach (Payload.Types.Metric x in messages.Where(m => Type(m) == "DDATA").SelectMany(m => Decode(m).Metrics))
            {
                Assert.True(x.HasTimestamp, x.Name);
                (uint type, Payload.Types.Metric.ValueOneofCase value) = x.Name switch
                {
                    "questions/door/value" => ((uint)DataType.Boolean, Payload.Types.Metric.ValueOneofCase.BooleanValue),
                    "questions/parcels/value" => ((uint)DataType.Int64, Payload.Types.Metric.ValueOneofCase.LongValue),
                    "latency_ms" or "tokens_per_second" => ((uint)DataType.Double, Payload.Types.Metric.ValueOneofCase.DoubleValue),
                    _ => ((uint)DataType.String, Payload.Types.Metric.ValueOneofCase.StringValue),
                };
                Assert.Equal(type, x.Datatype);
                Assert.False(x.IsNull, $"{x.Name}: typed answers are valid by construction (docs/typed-answers.md), so never null");
                Assert.Equal(value, x.ValueCase);
            }

            // Node Control/Rebirth: NBIRTH again (same bdSeq, seq 0), then the DBIRTH (seq 1)
            var rebirth = new Payload { Timestamp = 1 };
            rebirth.Metrics.Add(new Payload.Types.Metric { Name = SparkplugMetrics.Rebirth, Datatype = (uint)DataType.Boolean, BooleanValue = true });
            await host.PublishAsync($"spBv1.0/{group}/NCMD/{node}", rebirth.ToByteArray());
            MqttApplicationMessage again = await host.NextAsync(m => Type(m) == "NBIRTH", 30);
            Assert.Equal(0UL, Decode(again).Seq);
            Assert.Equal(bdSeq, Decode(again).Metrics.Single(x => x.Name == SparkplugMetrics.BdSeq).LongValue);
            MqttApplicationMessage next = await host.NextAsync(m => Type(m) != "NCMD", 30);
            Assert.Equal($"spBv1.0/{group}/DBIRTH/{node}/cam0", next.Topic);
            Assert.Equal(1UL, Decode(next).Seq);
        }

        // a clean stop: NDEATH with the session's bdSeq and no seq
        Payload death = Decode(await host.NextAsync(m => Type(m) == "NDEATH", 30));
        Assert.False(death.HasSeq);
        Assert.Equal(bdSeq, death.Metrics.Single(x => x.Name == SparkplugMetrics.BdSeq).LongValue);
    }

    [Fact]
    public async Task HomeAssistant_RetainedConfigs_AndRepublishedWhenHomeAssistantComesOnline()
    {
        await using TestClient ha = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, "homeassistant/#");
        ServiceHarness service = await ServiceHarness.StartAsync(broker.Port, embedded: false, null, [.. s_questions, "--Mqtt:HomeAssistant:Enabled=true"]);
        string node = service.DeviceId.Replace('.', '_');
        bool Mine(MqttApplicationMessage m) => m.Topic.EndsWith("/config", StringComparison.Ordinal) && m.Topic.Split('/')[2] == node;
        string[] expected =
        [
            $"homeassistant/camera/{node}/cam0_snapshot/config", $"homeassistant/switch/{node}/cam0_enable/config", $"homeassistant/text/{node}/cam0_question/config",
            $"homeassistant/binary_sensor/{node}/cam0_door/config", $"homeassistant/sensor/{node}/cam0_parcels/config",
        ];
        await using (service)
        {
            List<MqttApplicationMessage> configs = await ha.CollectAsync(expected.Length, Mine, 30);
            Assert.Equal(expected, configs.Select(m => m.Topic));
            foreach (MqttApplicationMessage m in configs)
            {
                JsonElement c = JsonDocument.Parse(m.Payload.ToArray()).RootElement;
                Assert.Equal(service.Topic("available"), c.GetProperty("availability_topic").GetString());
                Assert.Equal(service.DeviceId, c.GetProperty("device").GetProperty("identifiers")[0].GetString());
                Assert.Equal("tiny-smolvlm", c.GetProperty("device").GetProperty("model").GetString());
                Assert.Equal("LlavaUhd.Edge", c.GetProperty("device").GetProperty("manufacturer").GetString());
                Assert.StartsWith(node + "_", c.GetProperty("unique_id").GetString(), StringComparison.Ordinal);
            }

            foreach (MqttApplicationMessage m in configs)
            {
                output.WriteLine($"{m.Topic}\n{m.ConvertPayloadToString()}");   // as quoted in docs/home-assistant.md
            }

            JsonElement door = JsonDocument.Parse(configs[3].Payload.ToArray()).RootElement;
            Assert.Equal(service.Topic("cam0/answer"), door.GetProperty("state_topic").GetString());
            Assert.Contains("value_json.question_id == 'door'", door.GetProperty("value_template").GetString(), StringComparison.Ordinal);
            JsonElement parcels = JsonDocument.Parse(configs[4].Payload.ToArray()).RootElement;
            Assert.Equal("measurement", parcels.GetProperty("state_class").GetString());
            Assert.Equal(service.Topic("cam0/snapshot"), JsonDocument.Parse(configs[0].Payload.ToArray()).RootElement.GetProperty("topic").GetString());

            // retained: a later subscriber gets them from the broker
            await using TestClient late = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, $"homeassistant/+/{node}/+/config");
            List<MqttApplicationMessage> retained = await late.CollectAsync(expected.Length, timeoutSeconds: 15);
            Assert.Equal(expected.Order(StringComparer.Ordinal), retained.Select(m => m.Topic).Order(StringComparer.Ordinal));
            Assert.All(retained, m => Assert.True(m.Retain));

            // Home Assistant's birth message: every config again
            await ha.PublishAsync("homeassistant/status", "online");
            List<MqttApplicationMessage> again = await ha.CollectAsync(expected.Length, Mine, 30);
            Assert.Equal(expected, again.Select(m => m.Topic));
            // the publisher counts a set once its last PUBLISH is acknowledged, which may come after the asker has it
            HomeAssistantPublisher publisher = service.Get<HomeAssistantPublisher>();
            await Poll.UntilAsync(() => publisher.PublishCount >= 2);
            Assert.Equal(2, publisher.PublishCount);
        }

        // leave the shared broker clean: remove this device's retained configs
        foreach (string topic in expected)
        {
            await ha.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Array.Empty<byte>()).WithRetainFlag().Build());
        }
    }

    /// <summary>
    /// The same node on the service's embedded broker: a host application joining after the node's birth asks for a
    /// rebirth (Node Control/Rebirth), gets NBIRTH (seq 0) and DBIRTH (seq 1), then typed DDATA in sequence, and the
    /// node's NDEATH when the service stops.
    /// </summary>
    [Fact]
    public async Task SparkplugB_OnTheEmbeddedBroker_RebirthOnRequest_TypedData_AndDeath()
    {
        string group = "g" + Guid.NewGuid().ToString("N")[..8];
        int port = TestPorts.Free();
        ServiceHarness service = await ServiceHarness.StartAsync(port, embedded: true, null,
            [.. s_questions, "--Mqtt:SparkplugB:Enabled=true", $"--Mqtt:SparkplugB:GroupId={group}"]);
        await using TestClient host = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, $"spBv1.0/{group}/#");
        await using (service)
        {
            string node = service.DeviceId;
            var rebirth = new Payload { Timestamp = 1 };
            rebirth.Metrics.Add(new Payload.Types.Metric { Name = SparkplugMetrics.Rebirth, Datatype = (uint)DataType.Boolean, BooleanValue = true });
            await host.PublishAsync($"spBv1.0/{group}/NCMD/{node}", rebirth.ToByteArray());
            MqttApplicationMessage nbirth = await host.NextAsync(m => Type(m) == "NBIRTH", 30);
            Assert.Equal(0UL, Decode(nbirth).Seq);
            ulong bdSeq = Decode(nbirth).Metrics.Single(x => x.Name == SparkplugMetrics.BdSeq).LongValue;
            var after = new List<MqttApplicationMessage>();
            while (after.Count(m => Type(m) == "DDATA") < 3)
            {
                MqttApplicationMessage m = await host.NextAsync(x => Type(x) != "NCMD", 60);
                after.Add(m);
            }

            Assert.Equal($"spBv1.0/{group}/DBIRTH/{node}/cam0", after[0].Topic);
            for (int i = 0; i < after.Count; i++)
            {
                Assert.Equal((ulong)((i + 1) % 256), Decode(after[i]).Seq);
            }

            foreach (Payload.Types.Metric x in after.Where(m => Type(m) == "DDATA").SelectMany(m => Decode(m).Metrics).Where(x => x.Name.EndsWith("/value", StringComparison.Ordinal)))
            {
                Assert.False(x.IsNull, x.Name);
                Assert.Equal(x.Name == "questions/door/value" ? Payload.Types.Metric.ValueOneofCase.BooleanValue : Payload.Types.Metric.ValueOneofCase.LongValue, x.ValueCase);
            }

            await service.StopAsync();
            Payload death = Decode(await host.NextAsync(m => Type(m) == "NDEATH", 30));
            Assert.Equal(bdSeq, death.Metrics.Single(x => x.Name == SparkplugMetrics.BdSeq).LongValue);
        }
    }

    [Fact]
    public async Task HomeAssistant_OnTheEmbeddedBroker_ConfigsAreRetained()
    {
        int port = TestPorts.Free();
        await using ServiceHarness service = await ServiceHarness.StartAsync(port, embedded: true, null, [.. s_questions, "--Mqtt:HomeAssistant:Enabled=true"]);
        string node = service.DeviceId.Replace('.', '_');
        await WaitUntilAsync(() => service.Get<HomeAssistantPublisher>().PublishCount >= 1);

        await using TestClient ha = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, $"homeassistant/+/{node}/+/config");
        List<MqttApplicationMessage> retained = await ha.CollectAsync(5, timeoutSeconds: 15);

        Assert.Equal(
            new[] { $"homeassistant/binary_sensor/{node}/cam0_door/config", $"homeassistant/camera/{node}/cam0_snapshot/config", $"homeassistant/sensor/{node}/cam0_parcels/config", $"homeassistant/switch/{node}/cam0_enable/config", $"homeassistant/text/{node}/cam0_question/config" },
            retained.Select(m => m.Topic).Order(StringComparer.Ordinal));
        Assert.All(retained, m => Assert.True(m.Retain));
        Assert.All(retained, m => Assert.Equal(service.Topic("available"), JsonDocument.Parse(m.Payload.ToArray()).RootElement.GetProperty("availability_topic").GetString()));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(50, cts.Token);
        }
    }

    [Fact]
    public async Task SparkplugB_ProcessKilled_BrokerPublishesTheNodeDeath_WithTheBirthsBdSeq()
    {
        string group = "g" + Guid.NewGuid().ToString("N")[..8];
        string device = "proc-" + Guid.NewGuid().ToString("N")[..8];
        string outbox = Directory.CreateTempSubdirectory("llava-svc-spb-").FullName;
        try
        {
            await using TestClient host = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, $"spBv1.0/{group}/#");
            await using ServiceProcess service = ServiceProcess.Start(ServiceHarness.Args(broker.Port, false, device, outbox,
                "--Mqtt:KeepAliveSeconds=5", "--Mqtt:SparkplugB:Enabled=true", $"--Mqtt:SparkplugB:GroupId={group}"));
            MqttApplicationMessage birth = await host.NextAsync(timeoutSeconds: 60);
            Assert.Equal($"spBv1.0/{group}/NBIRTH/{device}", birth.Topic);
            ulong bdSeq = Decode(birth).Metrics.Single(x => x.Name == SparkplugMetrics.BdSeq).LongValue;

            service.Kill();   // no DISCONNECT, no NDEATH of its own: the broker publishes the will
            Payload death = Decode(await host.NextAsync(m => Type(m) == "NDEATH", 20));
            Assert.False(death.HasSeq);
            Assert.Equal(bdSeq, death.Metrics.Single(x => x.Name == SparkplugMetrics.BdSeq).LongValue);
        }
        finally
        {
            Directory.Delete(outbox, recursive: true);
        }
    }

    [Fact]
    public async Task SparkplugB_WithoutGroupId_IsAConfigurationError_NamingTheKey()
    {
        await using ServiceProcess service = ServiceProcess.Start(["--Mqtt:SparkplugB:Enabled=true", "--Mqtt:SparkplugB:EdgeNodeId=a/b", "--Mqtt:HomeAssistant:DiscoveryPrefix=#"]);
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(60)), service.Output);
        Assert.True(service.ExitCode == 2, service.Output);
        Assert.Contains("Mqtt:SparkplugB:GroupId", service.Output, StringComparison.Ordinal);
        Assert.Contains("Mqtt:SparkplugB:EdgeNodeId 'a/b'", service.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Mqtt:HomeAssistant", service.Output, StringComparison.Ordinal);   // not enabled: not checked
    }
}
