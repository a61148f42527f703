using System.Text.Json;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.SparkplugB;
using LlavaUhd.Edge.Messaging.SparkplugB.Protobuf;

namespace LlavaUhd.Edge.Messaging.Tests.SparkplugB;

/// <summary>Hand-made answers and a node with one camera of four standing questions (yes_no, integer number, choice, free text).</summary>
internal static class SparkplugTestData
{
    public static SparkplugNode Node(string camera = "cam0", TimeProvider? time = null) => new(
        new SparkplugTopics("plant", "edge-7"),
        new SparkplugNodeInfo("edge-7", "tiny-model", "cpu", "1.0.0"),
        [camera],
        [
            new SparkplugQuestion(camera, "door", AnswerType.YesNo),
            new SparkplugQuestion(camera, "parcels", AnswerType.Number(0, 100, integer: true)),
            new SparkplugQuestion(camera, "state", AnswerType.Choice(["ok", "jam"])),
            new SparkplugQuestion(camera, "caption", null),
        ],
        time);

    public static AnswerMessage Answer(string? questionId, string? answerType, string? valueJson, string text = "text", double totalMs = 120, string camera = "cam0") => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        QuestionId = questionId,
        Device = "edge-7",
        Camera = camera,
        AnswerTimestamp = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero),
        Question = "q?",
        Answer = text,
        AnswerType = answerType,
        Value = valueJson is null ? null : JsonDocument.Parse(valueJson).RootElement.Clone(),
        CompletionTokens = 8,
        Timings = new AnswerTimings { TotalMs = totalMs, DecodeMs = 40 },
        Model = "tiny-model",
    };

    public static Payload.Types.Metric Metric(Payload payload, string name) => payload.Metrics.Single(m => m.Name == name);
}
