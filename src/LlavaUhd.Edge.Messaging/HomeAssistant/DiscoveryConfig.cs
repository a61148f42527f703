namespace LlavaUhd.Edge.Messaging.HomeAssistant;

/// <summary>One retained discovery message: <c>&lt;prefix&gt;/&lt;component&gt;/&lt;node_id&gt;/&lt;object_id&gt;/config</c> and its JSON.</summary>
public sealed record DiscoveryConfig(string Component, string ObjectId, string Topic, byte[] Payload);
