using LlavaUhd.Edge.Core.Decoding;

namespace LlavaUhd.Edge.Messaging.HomeAssistant;

/// <summary>A standing question as Home Assistant sees it: its camera, name and answer type (null: free text).</summary>
public sealed record HomeAssistantQuestion(string Camera, string Name, AnswerType? Type);
