using Google.Protobuf;
using LlavaUhd.Edge.Messaging.Options;
using LlavaUhd.Edge.Messaging.SparkplugB;
using LlavaUhd.Edge.Messaging.SparkplugB.Protobuf;
using MQTTnet;
using MQTTnet.Formatter;
using static LlavaUhd.Edge.Messaging.Tests.SparkplugB.SparkplugTestData;

namespace LlavaUhd.Edge.Messaging.Tests.SparkplugB;

/// <summary>The Sparkplug B node on its own connection to a real mosquitto, watched by a host application's client.</summary>
[Collection(MosquittoCollection.Name)]
public sealed class SparkplugPublisherTests(MosquittoFixture broker)
{
    private MqttOptions Options(string node) => new()
    {
        EmbeddedBroker = false,
        Host = "127.0.0.1",
        Port = broker.Port,
        Username = TestPorts.User,
        Password = TestPorts.Password,
        DeviceId = node,
        ReconnectMinDelayMs = 50,
        ReconnectMaxDelayMs = 500,
        SparkplugB = new SparkplugBOptions { Enabled = true, GroupId = "plant" },
    };

    private static SparkplugNode NodeOf(string node) => new(
        new SparkplugTopics("plant", node),
        new SparkplugNodeInfo(node, "tiny-model", "cpu", "1.0.0"),
        ["cam0"],
        [new SparkplugQuestion("cam0", "door", Core.Decoding.AnswerType.YesNo)]);

    private static Payload Decode(MqttApplicationMessage m) => Payload.Parser.ParseFrom(m.Payload);

    [Fact]
    public async Task Births_Data_Rebirth_AndTheWillCarriesTheBirthsBdSeq()
    {
        string id = "node-" + Guid.NewGuid().ToString("N")[..8];
        await using TestClient host = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, $"spBv1.0/plant/+/{id}/#");   // "#" also matches the parent level: node and device topics
        var publisher = new SparkplugPublisher(Options(id), NodeOf(id));
        try
        {
            await publisher.StartAsync();
            List<MqttApplicationMessage> births = await host.CollectAsync(2, timeoutSeconds: 20);
            Assert.Equal([$"spBv1.0/plant/NBIRTH/{id}", $"spBv1.0/plant/DBIRTH/{id}/cam0"], births.Select(m => m.Topic));
            Payload nbirth = Decode(births[0]);
            Assert.Equal(0UL, nbirth.Seq);
            ulong bdSeq = Metric(nbirth, SparkplugMetrics.BdSeq).LongValue;
            Assert.Equal(1UL, Decode(births[1]).Seq);

            publisher.OnAnswer(Answer("door", "yes_no", "true", "yes"));
            MqttApplicationMessage data = await host.NextAsync(timeoutSeconds: 10);
            Assert.Equal($"spBv1.0/plant/DDATA/{id}/cam0", data.Topic);
            Payload ddata = Decode(data);
            Assert.Equal(2UL, ddata.Seq);
            Payload.Types.Metric door = Metric(ddata, "questions/door/value");
            Assert.Equal((uint)DataType.Boolean, door.Datatype);
            Assert.True(door.BooleanValue);

            // a host application asks for a rebirth: NBIRTH again with the same bdSeq and seq 0, then the DBIRTH
            var rebirth = new Payload { Timestamp = 1 };
            rebirth.Metrics.Add(new Payload.Types.Metric { Name = SparkplugMetrics.Rebirth, Datatype = (uint)DataType.Boolean, BooleanValue = true });
            await host.PublishAsync($"spBv1.0/plant/NCMD/{id}", rebirth.ToByteArray());
            List<MqttApplicationMessage> again = await host.CollectAsync(2, m => !m.Topic.Contains("/NCMD/", StringComparison.Ordinal), timeoutSeconds: 10);
            Assert.Equal([$"spBv1.0/plant/NBIRTH/{id}", $"spBv1.0/plant/DBIRTH/{id}/cam0"], again.Select(m => m.Topic));
            Assert.Equal(0UL, Decode(again[0]).Seq);
            Assert.Equal(bdSeq, Metric(Decode(again[0]), SparkplugMetrics.BdSeq).LongValue);
            Assert.Equal(1UL, Decode(again[1]).Seq);
            Assert.True(Metric(Decode(again[1]), "questions/door/value").BooleanValue);   // the birth carries the latest value
            Assert.Equal(2, publisher.BirthCount);
        }
        finally
        {
            // dropped without DISCONNECT: the broker publishes the will, the NDEATH
            await publisher.DisposeAsync();
        }

        MqttApplicationMessage death = await host.NextAsync(m => m.Topic.Contains("/NDEATH/", StringComparison.Ordinal), timeoutSeconds: 20);
        Assert.Equal($"spBv1.0/plant/NDEATH/{id}", death.Topic);
        Payload ndeath = Decode(death);
        Assert.False(ndeath.HasSeq);
        Assert.Equal((uint)DataType.Uint64, Metric(ndeath, SparkplugMetrics.BdSeq).Datatype);
        Assert.Equal(0UL, Metric(ndeath, SparkplugMetrics.BdSeq).LongValue);   // the first connect's bdSeq, as in the NBIRTH
    }

    [Fact]
    public async Task Reconnect_TakesTheNextBdSeq_AndCleanStopPublishesTheDeath()
    {
        string id = "node-" + Guid.NewGuid().ToString("N")[..8];
        await using TestClient host = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, $"spBv1.0/plant/+/{id}/#");   // "#" also matches the parent level: node and device topics
        await using var publisher = new SparkplugPublisher(Options(id), NodeOf(id));
        await publisher.StartAsync();
        Payload first = Decode(await host.NextAsync(m => m.Topic.Contains("/NBIRTH/", StringComparison.Ordinal), timeoutSeconds: 20));
        Assert.Equal(0UL, Metric(first, SparkplugMetrics.BdSeq).LongValue);

        // another connection with the node's client id takes the session over: the broker drops the node's connection
        // (publishing its will, bdSeq 0); the node reconnects with bdSeq 1
        var thief = new MqttClientFactory().CreateMqttClient();
        await thief.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId(Options(id).EffectiveSparkplugClientId)
            .WithCredentials(TestPorts.User, TestPorts.Password).Build());
        await thief.DisconnectAsync();
        thief.Dispose();
        Payload will = Decode(await host.NextAsync(m => m.Topic.Contains("/NDEATH/", StringComparison.Ordinal), timeoutSeconds: 20));
        Assert.Equal(0UL, Metric(will, SparkplugMetrics.BdSeq).LongValue);
        Payload second = Decode(await host.NextAsync(m => m.Topic.Contains("/NBIRTH/", StringComparison.Ordinal), timeoutSeconds: 20));
        Assert.Equal(1UL, Metric(second, SparkplugMetrics.BdSeq).LongValue);
        Assert.Equal(0UL, second.Seq);

        await publisher.StopAsync();
        Payload death = Decode(await host.NextAsync(m => m.Topic.Contains("/NDEATH/", StringComparison.Ordinal), timeoutSeconds: 20));
        Assert.Equal(1UL, Metric(death, SparkplugMetrics.BdSeq).LongValue);
    }

    [Fact]
    public async Task AStopWhoseCleanDeathFails_DropsTheConnection_SoTheBrokerPublishesTheWill()
    {
        string id = "node-" + Guid.NewGuid().ToString("N")[..8];
        await using TestClient host = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, $"spBv1.0/plant/+/{id}/#");
        await using var publisher = new SparkplugPublisher(Options(id), NodeOf(id));
        await publisher.StartAsync();
        await host.NextAsync(m => m.Topic.Contains("/NBIRTH/", StringComparison.Ordinal), timeoutSeconds: 20);

        // a stop whose time is already up: the clean NDEATH cannot be published
        await publisher.StopAsync(new CancellationToken(canceled: true));

        // the will arrives while the publisher still exists (before its disposal at the end of this scope)
        Payload death = Decode(await host.NextAsync(m => m.Topic.Contains("/NDEATH/", StringComparison.Ordinal), timeoutSeconds: 10));
        Assert.Equal(0UL, Metric(death, SparkplugMetrics.BdSeq).LongValue);
    }
}
