using System.Text.Json;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Messaging.HomeAssistant;
using LlavaUhd.Edge.Messaging.Options;

namespace LlavaUhd.Edge.Messaging.Tests.HomeAssistant;

public sealed class HomeAssistantDiscoveryTests
{
    private static HomeAssistantDiscovery Discovery(string prefix = "homeassistant") => new(
        new HomeAssistantOptions { Enabled = true, DiscoveryPrefix = prefix },
        new MqttTopics("llavauhd", "edge.1"),
        new HomeAssistantDevice("edge.1", "edge.1", "tiny-model", "1.2.3"),
        ["cam0"],
        [
            new HomeAssistantQuestion("cam0", "door", AnswerType.YesNo),
            new HomeAssistantQuestion("cam0", "parcels", AnswerType.Number(0, 50, integer: true)),
            new HomeAssistantQuestion("cam0", "belt", AnswerType.Choice(["running", "jam"])),
            new HomeAssistantQuestion("cam0", "caption", null),
        ]);

    private static Dictionary<string, JsonElement> ByTopic(HomeAssistantDiscovery d) =>
        d.Configs().ToDictionary(c => c.Topic, c => JsonDocument.Parse(c.Payload).RootElement.Clone());

    [Fact]
    public void Configs_HaveTheDiscoveryTopics_AndStableUniqueIds()
    {
        Dictionary<string, JsonElement> configs = ByTopic(Discovery());
        Assert.Equal(
            [
                "homeassistant/camera/edge_1/cam0_snapshot/config",
                "homeassistant/switch/edge_1/cam0_enable/config",
                "homeassistant/text/edge_1/cam0_question/config",
                "homeassistant/binary_sensor/edge_1/cam0_door/config",
                "homeassistant/sensor/edge_1/cam0_parcels/config",
                "homeassistant/sensor/edge_1/cam0_belt/config",
                "homeassistant/sensor/edge_1/cam0_caption/config",
            ],
            configs.Keys);
        Assert.Equal(configs.Count, configs.Values.Select(c => c.GetProperty("unique_id").GetString()).Distinct().Count());
        Assert.Equal("edge_1_cam0_door", configs["homeassistant/binary_sensor/edge_1/cam0_door/config"].GetProperty("unique_id").GetString());
        Assert.Equal(ByTopic(Discovery()).Values.Select(c => c.GetRawText()), configs.Values.Select(c => c.GetRawText()));   // stable
    }

    [Fact]
    public void EveryConfig_HasTheDeviceAndTheAvailability()
    {
        foreach (JsonElement c in ByTopic(Discovery()).Values)
        {
            Assert.Equal("llavauhd/edge.1/available", c.GetProperty("availability_topic").GetString());
            Assert.Equal("online", c.GetProperty("payload_available").GetString());
            Assert.Equal("offline", c.GetProperty("payload_not_available").GetString());
            JsonElement device = c.GetProperty("device");
            Assert.Equal(["edge.1"], device.GetProperty("identifiers").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("tiny-model", device.GetProperty("model").GetString());
            Assert.Equal("1.2.3", device.GetProperty("sw_version").GetString());
            Assert.Equal("LlavaUhd.Edge", device.GetProperty("manufacturer").GetString());
            Assert.False(string.IsNullOrEmpty(c.GetProperty("name").GetString()));
        }
    }

    [Fact]
    public void Questions_ReadTheCameraAnswerTopic_FilteredByQuestionId()
    {
        Dictionary<string, JsonElement> c = ByTopic(Discovery());
        JsonElement door = c["homeassistant/binary_sensor/edge_1/cam0_door/config"];
        Assert.Equal("llavauhd/edge.1/cam0/answer", door.GetProperty("state_topic").GetString());
        Assert.Equal("ON", door.GetProperty("payload_on").GetString());
        Assert.Equal("OFF", door.GetProperty("payload_off").GetString());
        Assert.Contains("value_json.question_id == 'door'", door.GetProperty("value_template").GetString(), StringComparison.Ordinal);

        JsonElement parcels = c["homeassistant/sensor/edge_1/cam0_parcels/config"];
        Assert.Equal("measurement", parcels.GetProperty("state_class").GetString());
        Assert.Contains("{{ value_json.value }}", parcels.GetProperty("value_template").GetString(), StringComparison.Ordinal);
        Assert.Contains("{{ this.state }}", parcels.GetProperty("value_template").GetString(), StringComparison.Ordinal);

        JsonElement belt = c["homeassistant/sensor/edge_1/cam0_belt/config"];
        Assert.Equal("enum", belt.GetProperty("device_class").GetString());
        Assert.Equal(["running", "jam"], belt.GetProperty("options").EnumerateArray().Select(e => e.GetString()));

        JsonElement caption = c["homeassistant/sensor/edge_1/cam0_caption/config"];
        Assert.Contains("value_json.answer", caption.GetProperty("value_template").GetString(), StringComparison.Ordinal);
        Assert.False(caption.TryGetProperty("state_class", out _));
    }

    [Fact]
    public void Camera_Switch_Text_UseTheServiceTopics()
    {
        Dictionary<string, JsonElement> c = ByTopic(Discovery("ha/disc"));
        Assert.Equal("llavauhd/edge.1/cam0/snapshot", c["ha/disc/camera/edge_1/cam0_snapshot/config"].GetProperty("topic").GetString());
        JsonElement sw = c["ha/disc/switch/edge_1/cam0_enable/config"];
        Assert.Equal("llavauhd/edge.1/cam0/enable/set", sw.GetProperty("command_topic").GetString());
        Assert.Equal("llavauhd/edge.1/cam0/enable/state", sw.GetProperty("state_topic").GetString());
        JsonElement text = c["ha/disc/text/edge_1/cam0_question/config"];
        Assert.Equal("llavauhd/edge.1/cam0/question/set", text.GetProperty("command_topic").GetString());
        Assert.Equal("{{ value | tojson }}", text.GetProperty("command_template").GetString());
        Assert.Equal("ha/disc/status", Discovery("ha/disc").StatusTopic);
    }

    [Fact]
    public void Options_BadValues_NameTheirKeys()
    {
        var o = new MqttOptions
        {
            SparkplugB = new SparkplugBOptions { Enabled = true, GroupId = "", EdgeNodeId = "a/b" },
            HomeAssistant = new HomeAssistantOptions { Enabled = true, DiscoveryPrefix = "home/#" },
        };
        IReadOnlyList<string> problems = MqttOptionsValidator.Check(o);
        Assert.Contains(problems, p => p.StartsWith("Mqtt:SparkplugB:GroupId", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Mqtt:SparkplugB:EdgeNodeId 'a/b'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Mqtt:HomeAssistant:DiscoveryPrefix", StringComparison.Ordinal));
        Assert.StartsWith("Mqtt:SparkplugB:GroupId 'plant+1'", Assert.Single(MqttOptionsValidator.Check(new MqttOptions { SparkplugB = new SparkplugBOptions { Enabled = true, GroupId = "plant+1" } })), StringComparison.Ordinal);
        Assert.Empty(MqttOptionsValidator.Check(new MqttOptions { SparkplugB = new SparkplugBOptions { Enabled = true, GroupId = "plant" } }));
        Assert.Equal("edge-1", new MqttOptions().EffectiveEdgeNodeId);
        Assert.Equal("llavauhd-edge-1-spb", new MqttOptions().EffectiveSparkplugClientId);
    }
}
