using System.Text.Json;
using System.Text.Json.Serialization;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Messaging.Contracts;

/// <summary>A rectangle in native frame pixels: <c>{"x","y","width","height"}</c>.</summary>
public sealed record RoiRect(int X, int Y, int Width, int Height)
{
    public static RoiRect From(PixelRect r) => new(r.X, r.Y, r.Width, r.Height);

    public PixelRect ToPixelRect() => new(X, Y, Width, Height);
}

/// <summary>Milliseconds spent per stage of one answer; stages that did not run are null.</summary>
public sealed record AnswerTimings
{
    public double? QueueMs { get; init; }
    public double? PreprocessMs { get; init; }
    public double? EncodeMs { get; init; }
    public double? PrefillMs { get; init; }
    public double? DecodeMs { get; init; }
    public double TotalMs { get; init; }
}

/// <summary>Published on <c>…/&lt;camera&gt;/answer</c> (and to the response topic of a request). QoS 1, not retained.</summary>
public sealed record AnswerMessage
{
    /// <summary>Unique id of this answer.</summary>
    public required string Id { get; init; }

    /// <summary>Id of the question it answers (given by the asker or assigned); null for trigger-driven answers.</summary>
    public string? QuestionId { get; init; }

    /// <summary>Echo of the asker's <c>correlation_id</c> (MQTT 3.1.1 request/response).</summary>
    public string? CorrelationId { get; init; }

    public required string Device { get; init; }
    public required string Camera { get; init; }

    /// <summary>Capture time of the frame that was answered.</summary>
    public DateTimeOffset FrameTimestamp { get; init; }

    /// <summary>The answered frame's sequence number; a follow-up question may reference it with <c>"frame"</c>.</summary>
    public long? FrameSequence { get; init; }

    /// <summary>Time the answer was complete.</summary>
    public DateTimeOffset AnswerTimestamp { get; init; }

    public RoiRect? Roi { get; init; }
    public required string Question { get; init; }
    public required string Answer { get; init; }

    /// <summary>The question's <c>answer_type</c> (<c>yes_no</c>, <c>number</c>, <c>choice</c>, <c>json</c>); null for free text.</summary>
    public string? AnswerType { get; init; }

    /// <summary>The typed value beside <see cref="Answer"/>: a JSON boolean, number, string or object; null for free text.</summary>
    public JsonElement? Value { get; init; }

    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    public int VisualTokens { get; init; }
    public AnswerTimings Timings { get; init; } = new();
    public required string Model { get; init; }
}

/// <summary>The reply to a request that could not be answered. <see cref="Error"/> is one of <see cref="ErrorCodes"/>.</summary>
public sealed record ErrorReply
{
    public required string Error { get; init; }
    public required string Message { get; init; }
    public string? QuestionId { get; init; }
    public string? CorrelationId { get; init; }
    public string? Camera { get; init; }
    public string? Topic { get; init; }
    public DateTimeOffset Timestamp { get; init; }
}

/// <summary>The <see cref="ErrorReply.Error"/> codes.</summary>
public static class ErrorCodes
{
    public const string PayloadTooLarge = "payload_too_large";
    public const string InvalidUtf8 = "invalid_utf8";
    public const string InvalidJson = "invalid_json";
    public const string InvalidField = "invalid_field";
    public const string UnknownCamera = "unknown_camera";
    public const string UnknownSetting = "unknown_setting";
    public const string Busy = "busy";
    public const string Internal = "internal_error";
    public const string Rejected = "rejected";

    /// <summary>The <c>answer_type</c> of a question (or its <c>options</c>, <c>min</c>/<c>max</c>, <c>schema</c>) is invalid.</summary>
    public const string InvalidAnswerType = "invalid_answer_type";

    /// <summary>The question spells a reserved model token such as <c>&lt;image&gt;</c>.</summary>
    public const string ReservedToken = "reserved_token";

    /// <summary>The question has more tokens than a question may have.</summary>
    public const string QuestionTooLong = "question_too_long";

    /// <summary>A token packet on <c>…/tokens</c> that cannot be read (truncated, bad checksum, bad header, …).</summary>
    public const string InvalidPacket = "invalid_packet";

    /// <summary>A token packet made by another vision encoder (model id or weights hash differ).</summary>
    public const string EncoderMismatch = "encoder_mismatch";

    /// <summary>The encoder role could not publish a packet: it would exceed <c>Service:Tokens:MaxPacketBytes</c>.</summary>
    public const string PacketTooLarge = "packet_too_large";
}

/// <summary>One camera as reported in <see cref="StatusMessage"/>.</summary>
public sealed record CameraStatus
{
    public required string Id { get; init; }
    public bool Enabled { get; init; }
    public string? Question { get; init; }
    public double? IntervalS { get; init; }
    public string? State { get; init; }
}

/// <summary>Retained on <c>…/status</c>: what runs on the device.</summary>
public sealed record StatusMessage
{
    public required string Device { get; init; }
    public DateTimeOffset Timestamp { get; init; }
    public required string Model { get; init; }

    /// <summary>Execution provider in use (TensorRT, CUDA, CPU).</summary>
    public required string Provider { get; init; }

    /// <summary>TensorRT engine cache: <c>building</c>, <c>ready</c>, <c>none</c>.</summary>
    public string EngineState { get; init; } = "none";

    /// <summary>Component versions, e.g. <c>{"app":"0.1.0","dotnet":"10.0.12","onnxruntime":"1.31.1","l4t":"36.4"}</c>.</summary>
    public IReadOnlyDictionary<string, string> Versions { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<CameraStatus> Cameras { get; init; } = [];
}

/// <summary>Latency of one stage over the last stats interval.</summary>
public sealed record StageLatency(double P50Ms, double P99Ms, long Count);

/// <summary>Periodic on <c>…/stats</c> (QoS 0).</summary>
public sealed record StatsMessage
{
    public required string Device { get; init; }
    public DateTimeOffset Timestamp { get; init; }
    public double UptimeS { get; init; }

    /// <summary>Per stage (<c>queue</c>, <c>preprocess</c>, <c>encode</c>, <c>prefill</c>, <c>decode</c>, <c>total</c>).</summary>
    public IReadOnlyDictionary<string, StageLatency> Latency { get; init; } = new Dictionary<string, StageLatency>();

    public double TokensPerSecond { get; init; }

    /// <summary>Resident memory now (<c>VmRSS</c>).</summary>
    public long RssBytes { get; init; }

    /// <summary>The most resident memory the process has held since it started (<c>VmHWM</c>; docs/memory.md).</summary>
    public long PeakRssBytes { get; init; }

    /// <summary>The managed heap after the last garbage collection (the rest of <see cref="RssBytes"/> is native: ONNX Runtime, OpenCV, the runtime itself).</summary>
    public long ManagedHeapBytes { get; init; }

    public long? GpuMemoryBytes { get; init; }
    public int QueueDepth { get; init; }
    public long QuestionsAnswered { get; init; }
    public long QuestionsRejected { get; init; }
    public long OutboxPending { get; init; }
}

/// <summary>Retained on <c>…/&lt;camera&gt;/&lt;setting&gt;/state</c> after a setting was applied.</summary>
public sealed record SettingState
{
    public required string Camera { get; init; }
    public required string Setting { get; init; }
    public bool? Enabled { get; init; }
    public string? Question { get; init; }

    /// <summary>The question's <c>answer_type</c> after the change (null: free text).</summary>
    public string? AnswerType { get; init; }

    public double? IntervalS { get; init; }
    public DateTimeOffset Timestamp { get; init; }
}

/// <summary>System.Text.Json source generation for every message: snake_case names, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(AnswerMessage))]
[JsonSerializable(typeof(ErrorReply))]
[JsonSerializable(typeof(StatusMessage))]
[JsonSerializable(typeof(StatsMessage))]
[JsonSerializable(typeof(SettingState))]
public sealed partial class MessagingJsonContext : JsonSerializerContext
{
}
