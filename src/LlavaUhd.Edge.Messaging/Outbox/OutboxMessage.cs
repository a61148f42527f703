namespace LlavaUhd.Edge.Messaging.Outbox;

/// <summary>A message waiting in the outbox: topic, payload and (for a request's reply) the MQTT 5 Correlation Data.</summary>
public sealed record OutboxMessage(string Topic, ReadOnlyMemory<byte> Payload, ReadOnlyMemory<byte> CorrelationData = default);
