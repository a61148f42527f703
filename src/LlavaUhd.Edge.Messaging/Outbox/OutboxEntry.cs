namespace LlavaUhd.Edge.Messaging.Outbox;

/// <summary>A stored message with its sequence number (monotonic, never reused within a directory).</summary>
public readonly record struct OutboxEntry(long Sequence, OutboxMessage Message);
