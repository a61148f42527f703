using LlavaUhd.Edge.Core.Decoding;

namespace LlavaUhd.Edge.Messaging.SparkplugB;

/// <summary>A standing question as the Sparkplug node announces it: the camera (device), its name and its answer type (null: free text).</summary>
public sealed record SparkplugQuestion(string Camera, string Name, AnswerType? Type);
