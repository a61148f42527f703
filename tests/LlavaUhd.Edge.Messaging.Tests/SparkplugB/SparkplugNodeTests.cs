using Google.Protobuf;
using LlavaUhd.Edge.Messaging.SparkplugB;
using LlavaUhd.Edge.Messaging.SparkplugB.Protobuf;
using static LlavaUhd.Edge.Messaging.Tests.SparkplugB.SparkplugTestData;

namespace LlavaUhd.Edge.Messaging.Tests.SparkplugB;

public sealed class SparkplugNodeTests
{
    [Fact]
    public void Births_NodeBirthFirst_WithSeqZero_ThenDeviceBirth()
    {
        SparkplugNode node = Node();
        node.BeginSession();
        IReadOnlyList<SparkplugMessage> births = node.Births(queueDepth: 2);

        Assert.Equal(["spBv1.0/plant/NBIRTH/edge-7", "spBv1.0/plant/DBIRTH/edge-7/cam0"], births.Select(b => b.Topic));
        Payload nbirth = births[0].Payload;
        Assert.True(nbirth.HasSeq);
        Assert.Equal(0UL, nbirth.Seq);
        Assert.True(nbirth.Timestamp > 0);
        Payload.Types.Metric bdSeq = Metric(nbirth, SparkplugMetrics.BdSeq);
        Assert.Equal((uint)DataType.Uint64, bdSeq.Datatype);
        Assert.Equal(0UL, bdSeq.LongValue);
        Payload.Types.Metric rebirth = Metric(nbirth, SparkplugMetrics.Rebirth);
        Assert.Equal((uint)DataType.Boolean, rebirth.Datatype);
        Assert.Equal(Payload.Types.Metric.ValueOneofCase.BooleanValue, rebirth.ValueCase);
        Assert.False(rebirth.BooleanValue);
        Assert.Equal("tiny-model", Metric(nbirth, SparkplugMetrics.Model).StringValue);
        Assert.Equal("cpu", Metric(nbirth, SparkplugMetrics.Provider).StringValue);
        Assert.Equal(2U, Metric(nbirth, SparkplugMetrics.QueueDepth).IntValue);
        Assert.Equal((uint)DataType.Uint64, Metric(nbirth, SparkplugMetrics.AnswersTotal).Datatype);
        Assert.All(nbirth.Metrics, m => Assert.True(m.HasTimestamp && m.HasDatatype, m.Name));

        Payload dbirth = births[1].Payload;
        Assert.Equal(1UL, dbirth.Seq);
        Assert.Equal((uint)DataType.Boolean, Metric(dbirth, "questions/door/value").Datatype);
        Assert.Equal((uint)DataType.Int64, Metric(dbirth, "questions/parcels/value").Datatype);
        Assert.Equal((uint)DataType.String, Metric(dbirth, "questions/state/value").Datatype);
        Assert.Equal((uint)DataType.String, Metric(dbirth, "questions/caption/value").Datatype);
        Assert.Equal((uint)DataType.String, Metric(dbirth, "questions/door/answer").Datatype);
        Assert.Equal((uint)DataType.Double, Metric(dbirth, SparkplugMetrics.LatencyMs).Datatype);
        Assert.Equal((uint)DataType.Double, Metric(dbirth, SparkplugMetrics.TokensPerSecond).Datatype);
        Assert.All(dbirth.Metrics, m => Assert.True(m.IsNull, m.Name));   // nothing answered yet
    }

    [Fact]
    public void DeviceData_CarriesTheTypedValue_AndOnlyWhatChanged()
    {
        SparkplugNode node = Node();
        node.BeginSession();
        Assert.Null(node.DeviceData(Answer("door", "yes_no", "true", "yes")));   // not born yet: the state follows, nothing to publish
        node.Births(0);

        Payload first = node.DeviceData(Answer("parcels", "number", "3", "3", totalMs: 100))!.Payload;
        Assert.Equal(2UL, first.Seq);
        // tokens/s (8 tokens in 40 ms) is what the door answer before the birth set already: unchanged, not sent
        Assert.Equal(
            ["questions/parcels/value", "questions/parcels/answer", SparkplugMetrics.LatencyMs],
            first.Metrics.Select(m => m.Name));
        Assert.Equal(3UL, Metric(first, "questions/parcels/value").LongValue);
        ulong answerTime = (ulong)new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        Assert.All(first.Metrics, m => Assert.Equal(answerTime, m.Timestamp));

        // the same value again, another latency: only the latency changed
        Payload second = node.DeviceData(Answer("parcels", "number", "3", "3", totalMs: 150))!.Payload;
        Assert.Equal([SparkplugMetrics.LatencyMs], second.Metrics.Select(m => m.Name));
        Assert.Null(node.DeviceData(Answer("parcels", "number", "3", "3", totalMs: 150)));   // nothing changed

        // an asked question (no standing question of that name): latency only
        Payload asked = node.DeviceData(Answer("q-17", null, null, "free", totalMs: 90))!.Payload;
        Assert.Equal([SparkplugMetrics.LatencyMs], asked.Metrics.Select(m => m.Name));

        // the next birth carries the latest values
        node.BeginSession();
        Payload dbirth = node.Births(0)[1].Payload;
        Assert.Equal(3UL, Metric(dbirth, "questions/parcels/value").LongValue);
        Assert.True(Metric(dbirth, "questions/door/value").BooleanValue);   // answered before the birth
        Assert.Equal(90, Metric(dbirth, SparkplugMetrics.LatencyMs).DoubleValue);
        Assert.True(Metric(dbirth, "questions/state/value").IsNull);
    }

    [Fact]
    public void Seq_IncrementsByOnePerMessage_AndWrapsAfter255()
    {
        SparkplugNode node = Node();
        node.BeginSession();
        var seqs = node.Births(0).Select(b => b.Payload.Seq).ToList();
        for (int i = 0; i < 600; i++)
        {
            SparkplugMessage? m = i % 50 == 49
                ? node.NodeData(queueDepth: i)
                : node.DeviceData(Answer("parcels", "number", "1", "1", totalMs: 100 + i));
            seqs.Add(m!.Payload.Seq);
        }

        Assert.Equal(0UL, seqs[0]);
        for (int i = 1; i < seqs.Count; i++)
        {
            Assert.Equal((seqs[i - 1] + 1) % 256, seqs[i]);
        }

        Assert.Contains(255UL, seqs);
        Assert.True(seqs.Count(s => s == 0) >= 2);   // wrapped 255 -> 0 at least once after the NBIRTH
    }

    [Fact]
    public void BdSeq_IncrementsPerConnect_AndTheDeathMatchesTheBirth()
    {
        SparkplugNode node = Node();
        for (ulong connect = 0; connect < 300; connect++)
        {
            SparkplugMessage death = node.BeginSession();
            Assert.Equal("spBv1.0/plant/NDEATH/edge-7", death.Topic);
            Assert.False(death.Payload.HasSeq);   // NDEATH has no seq
            ulong expected = connect % 256;
            Assert.Equal(expected, Metric(death.Payload, SparkplugMetrics.BdSeq).LongValue);
            Assert.Equal(expected, Metric(node.Births(0)[0].Payload, SparkplugMetrics.BdSeq).LongValue);
        }
    }

    [Fact]
    public void Rebirth_KeepsTheBdSeq_AndRestartsSeqAtZero()
    {
        SparkplugNode node = Node();
        node.BeginSession();
        node.BeginSession();   // the second connect: bdSeq 1
        node.Births(0);
        node.DeviceData(Answer("door", "yes_no", "false", "no"));
        IReadOnlyList<SparkplugMessage> again = node.Births(0);
        Assert.Equal(0UL, again[0].Payload.Seq);
        Assert.Equal(1UL, again[1].Payload.Seq);
        Assert.Equal(1UL, Metric(again[0].Payload, SparkplugMetrics.BdSeq).LongValue);
        Assert.False(Metric(again[1].Payload, "questions/door/value").BooleanValue);
    }

    [Fact]
    public void IsRebirthRequest_OnlyForRebirthTrue()
    {
        var request = new Payload { Timestamp = 1 };
        request.Metrics.Add(new Payload.Types.Metric { Name = SparkplugMetrics.Rebirth, Datatype = (uint)DataType.Boolean, BooleanValue = true });
        Assert.True(SparkplugNode.IsRebirthRequest(Payload.Parser.ParseFrom(request.ToByteArray())));
        request.Metrics[0].BooleanValue = false;
        Assert.False(SparkplugNode.IsRebirthRequest(request));
        Assert.False(SparkplugNode.IsRebirthRequest(new Payload()));
    }

    [Fact]
    public void CameraFailure_IsDeviceDeath_AndRecovery_IsDeviceBirth()
    {
        SparkplugNode node = Node();
        node.BeginSession();
        node.Births(0);
        SparkplugMessage death = node.SetDeviceOnline("cam0", online: false)!;
        Assert.Equal("spBv1.0/plant/DDEATH/edge-7/cam0", death.Topic);
        Assert.Equal(2UL, death.Payload.Seq);
        Assert.Null(node.SetDeviceOnline("cam0", online: false));   // no change
        Assert.Null(node.DeviceData(Answer("door", "yes_no", "true", "yes")));   // dead: no DDATA
        Assert.Single(node.Births(0));   // a dead device gets no DBIRTH
        SparkplugMessage birth = node.SetDeviceOnline("cam0", online: true)!;
        Assert.Equal("spBv1.0/plant/DBIRTH/edge-7/cam0", birth.Topic);
        Assert.Equal(1UL, birth.Payload.Seq);
        Assert.True(Metric(birth.Payload, "questions/door/value").BooleanValue);
    }

    [Fact]
    public void NodeData_OnlyWhenTheStatsChange()
    {
        SparkplugNode node = Node();
        node.BeginSession();
        node.Births(0);
        Assert.Null(node.NodeData(0));
        node.DeviceData(Answer("door", "yes_no", "true", "yes"));
        Payload data = node.NodeData(0)!.Payload;
        Assert.Equal([SparkplugMetrics.AnswersTotal], data.Metrics.Select(m => m.Name));
        Assert.Equal(1UL, data.Metrics[0].LongValue);
        Assert.Equal([SparkplugMetrics.QueueDepth], node.NodeData(3)!.Payload.Metrics.Select(m => m.Name));
    }

    [Fact]
    public void Ids_WithTopicCharacters_AreRefused()
    {
        Assert.False(SparkplugTopics.IsValidId("a/b"));
        Assert.False(SparkplugTopics.IsValidId("a+"));
        Assert.False(SparkplugTopics.IsValidId("#"));
        Assert.False(SparkplugTopics.IsValidId(""));
        Assert.True(SparkplugTopics.IsValidId("Plant 1.line-3"));
        Assert.Throws<ArgumentException>(() => new SparkplugTopics("plant", "a/b"));
    }
}
