namespace LlavaUhd.Edge.Messaging.HomeAssistant;

/// <summary>The Home Assistant device of the service: identifier (the MQTT device id), name, model id, software version.</summary>
public sealed record HomeAssistantDevice(string Id, string Name, string Model, string SoftwareVersion)
{
    public const string Manufacturer = "LlavaUhd.Edge";
}
