namespace LlavaUhd.Edge.Messaging.Options;

/// <summary>
/// The Sparkplug B (Eclipse Sparkplug 3.0) edge node, bound from <c>Mqtt:SparkplugB</c> (docs/sparkplug-b.md). It runs
/// on its own MQTT connection to the same broker, since its NDEATH is that connection's Last Will.
/// </summary>
public sealed class SparkplugBOptions
{
    /// <summary>Publish NBIRTH/NDEATH, one device per camera (DBIRTH/DDATA/DDEATH) and honour NCMD rebirth.</summary>
    public bool Enabled { get; set; }

    /// <summary>The Sparkplug group id, the second topic level (<c>spBv1.0/&lt;group&gt;/…</c>); required when enabled.</summary>
    public string GroupId { get; set; } = "";

    /// <summary>The edge node id; empty means <see cref="MqttOptions.DeviceId"/>.</summary>
    public string EdgeNodeId { get; set; } = "";

    /// <summary>The MQTT client id of the Sparkplug connection; empty means the main client id + <c>-spb</c>.</summary>
    public string ClientId { get; set; } = "";
}
