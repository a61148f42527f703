namespace LlavaUhd.Edge.Messaging;

/// <summary>A parsed incoming topic: its kind, camera and (for <see cref="TopicKind.Set"/>) setting name.</summary>
public readonly record struct TopicAddress(TopicKind Kind, string Camera, string? Setting);
