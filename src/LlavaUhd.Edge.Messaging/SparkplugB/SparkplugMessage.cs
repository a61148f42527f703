using LlavaUhd.Edge.Messaging.SparkplugB.Protobuf;

namespace LlavaUhd.Edge.Messaging.SparkplugB;

/// <summary>One Sparkplug B message to publish: its topic and its protobuf payload.</summary>
public sealed record SparkplugMessage(string Topic, Payload Payload);
