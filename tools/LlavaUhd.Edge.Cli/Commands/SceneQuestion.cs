using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>One question about a scene, as a line of <c>dataset.jsonl</c>.</summary>
internal sealed record SceneQuestion(string Type, string Question, string Answer, Rect? Roi);
