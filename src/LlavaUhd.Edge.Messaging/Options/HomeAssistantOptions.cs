namespace LlavaUhd.Edge.Messaging.Options;

/// <summary>Home Assistant MQTT discovery, bound from <c>Mqtt:HomeAssistant</c> (docs/home-assistant.md).</summary>
public sealed class HomeAssistantOptions
{
    /// <summary>Publish retained discovery configs and republish them when Home Assistant announces <c>online</c>.</summary>
    public bool Enabled { get; set; }

    /// <summary>The discovery prefix Home Assistant listens on; its birth message comes on <c>&lt;prefix&gt;/status</c>.</summary>
    public string DiscoveryPrefix { get; set; } = "homeassistant";
}
