using LlavaUhd.Edge.Messaging.Options;

namespace LlavaUhd.Edge.Messaging.Tests;

public sealed class MqttTopicsAndOptionsTests
{
    private readonly MqttTopics _topics = new("factory/llavauhd", "jetson-7");

    [Fact]
    public void Topics_Layout()
    {
        Assert.Equal("factory/llavauhd/jetson-7/available", _topics.Available);
        Assert.Equal("factory/llavauhd/jetson-7/status", _topics.Status);
        Assert.Equal("factory/llavauhd/jetson-7/stats", _topics.Stats);
        Assert.Equal("factory/llavauhd/jetson-7/dock/answer", _topics.Answer("dock"));
        Assert.Equal("factory/llavauhd/jetson-7/dock/ask", _topics.Ask("dock"));
        Assert.Equal("factory/llavauhd/jetson-7/dock/enable/set", _topics.Set("dock", "enable"));
        Assert.Equal("factory/llavauhd/jetson-7/dock/enable/state", _topics.State("dock", "enable"));
        Assert.Equal("factory/llavauhd/jetson-7/+/ask", _topics.AskFilter);
        Assert.Equal("factory/llavauhd/jetson-7/+/+/set", _topics.SetFilter);
        Assert.Equal("$share/fleet/factory/llavauhd/shared/+/ask", _topics.SharedAskFilter("fleet"));
        Assert.Throws<ArgumentException>(() => _topics.Answer("a/b"));
        Assert.Throws<ArgumentException>(() => _topics.Ask("#"));
    }

    [Theory]
    [InlineData("factory/llavauhd/jetson-7/dock/ask", TopicKind.Ask, "dock", null)]
    [InlineData("factory/llavauhd/jetson-7/dock/interval/set", TopicKind.Set, "dock", "interval")]
    [InlineData("factory/llavauhd/shared/dock/ask", TopicKind.SharedAsk, "dock", null)]
    public void Parse_Known(string topic, TopicKind kind, string camera, string? setting)
    {
        Assert.True(_topics.TryParse(topic, out TopicAddress a));
        Assert.Equal(new TopicAddress(kind, camera, setting), a);
    }

    [Theory]
    [InlineData("factory/llavauhd/jetson-7/status")]
    [InlineData("factory/llavauhd/jetson-8/dock/ask")]
    [InlineData("factory/llavauhd/jetson-7/dock/answer")]
    [InlineData("factory/llavauhd/jetson-7//ask")]
    [InlineData("other/x/ask")]
    public void Parse_Other_IsFalse(string topic) => Assert.False(_topics.TryParse(topic, out _));

    [Fact]
    public void Options_Defaults_AreValid() => Assert.Empty(MqttOptionsValidator.Check(new MqttOptions()));

    [Fact]
    public void Options_ReportsEveryProblemAtOnce()
    {
        var o = new MqttOptions
        {
            EmbeddedBroker = false,
            Host = "bad host!",
            Port = 0,
            TopicPrefix = "a/+/b",
            DeviceId = "has space",
            ProtocolVersion = 3,
            ReconnectMinDelayMs = 1000,
            ReconnectMaxDelayMs = 10,
            SharedSubscriptionGroup = "g/1",
            MaxPayloadBytes = 1,
            Tls = new MqttTlsOptions { Enabled = true, CaFile = "/nonexistent/ca.pem", ClientCertFile = "/nonexistent/c.pem" },
            Outbox = new OutboxOptions { Directory = "", MaxBytes = 10 },
        };

        IReadOnlyList<string> f = MqttOptionsValidator.Check(o);
        foreach (string key in new[] { "Mqtt:Host", "Mqtt:Port", "Mqtt:TopicPrefix", "Mqtt:DeviceId", "Mqtt:ProtocolVersion", "Mqtt:ReconnectMaxDelayMs",
            "Mqtt:SharedSubscriptionGroup", "Mqtt:MaxPayloadBytes", "Mqtt:Tls:CaFile", "Mqtt:Tls:ClientCertFile and", "Mqtt:Outbox:Directory", "Mqtt:Outbox:MaxBytes" })
        {
            Assert.Contains(f, s => s.StartsWith(key, StringComparison.Ordinal));
        }

        var validator = new MqttOptionsValidator();
        Assert.True(validator.Validate(null, o).Failed);
        Assert.Equal("Mqtt", MqttOptions.SectionName);
    }
}
