using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Messaging;

/// <summary>What the pipeline produced for a question; ids, device, camera and timestamps are filled in by messaging.</summary>
public sealed record QuestionAnswer
{
    public required string Answer { get; init; }
    public required string Model { get; init; }

    /// <summary>The typed value of a typed question (<see cref="Question.AnswerType"/>); null for free text.</summary>
    public System.Text.Json.JsonElement? Value { get; init; }

    /// <summary>Capture time of the frame that was answered.</summary>
    public DateTimeOffset FrameTimestamp { get; init; }

    /// <summary>Sequence number of the frame that was answered (per camera).</summary>
    public long? FrameSequence { get; init; }

    /// <summary>The region actually used (the question's, the camera's configured one, or the whole frame).</summary>
    public RoiRect? Roi { get; init; }

    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    public int VisualTokens { get; init; }
    public AnswerTimings Timings { get; init; } = new();
}
