namespace LlavaUhd.Edge.Messaging.SparkplugB;

/// <summary>What the NBIRTH tells about the node besides its stats: the service's device id, the model and the execution provider.</summary>
public sealed record SparkplugNodeInfo(string Device, string Model, string Provider, string Version);
