using System.Text.Json;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.SparkplugB.Protobuf;

namespace LlavaUhd.Edge.Messaging.SparkplugB;

/// <summary>
/// Metric names of the node and its devices, and the mapping of answers to Sparkplug datatypes and values
/// (docs/sparkplug-b.md, "Metrics").
/// </summary>
public static class SparkplugMetrics
{
    /// <summary>The birth/death sequence number (UInt64) in NBIRTH and NDEATH.</summary>
    public const string BdSeq = "bdSeq";

    /// <summary>Boolean; false in NBIRTH, an NCMD setting it true asks for a rebirth.</summary>
    public const string Rebirth = "Node Control/Rebirth";

    public const string Device = "Properties/Device";
    public const string Model = "Properties/Model";
    public const string Provider = "Properties/Provider";
    public const string Version = "Properties/Version";

    /// <summary>Questions waiting for or inside the model (UInt32).</summary>
    public const string QueueDepth = "Stats/Queue Depth";

    /// <summary>Answers published since the service started (UInt64).</summary>
    public const string AnswersTotal = "Stats/Answers Total";

    /// <summary>Total milliseconds of the camera's latest answer (Double).</summary>
    public const string LatencyMs = "latency_ms";

    /// <summary>Decode speed of the camera's latest answer, completion tokens per second of decoding (Double).</summary>
    public const string TokensPerSecond = "tokens_per_second";

    /// <summary>The typed value of a standing question's latest answer.</summary>
    public static string QuestionValue(string question) => $"questions/{question}/value";

    /// <summary>The text of a standing question's latest answer (String).</summary>
    public static string QuestionAnswer(string question) => $"questions/{question}/answer";

    /// <summary>
    /// The datatype of a question's value metric: yes_no → Boolean, number → Int64 when the question takes whole
    /// numbers else Double, choice → String, json → String (the JSON text), free text (null) → String.
    /// </summary>
    public static DataType DataTypeOf(AnswerType? type) => type?.Kind switch
    {
        AnswerKind.YesNo => DataType.Boolean,
        AnswerKind.Number => type.Integer ? DataType.Int64 : DataType.Double,
        _ => DataType.String,
    };

    /// <summary>
    /// The value metric of <paramref name="answer"/> as <paramref name="type"/> (from <see cref="DataTypeOf"/>): the
    /// typed <see cref="AnswerMessage.Value"/> (the answer text for free text); <c>is_null</c> when the answer carries
    /// no value of that type (the model's text did not decode). No timestamp.
    /// </summary>
    public static Payload.Types.Metric Value(string name, DataType type, AnswerMessage answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var m = new Payload.Types.Metric { Name = name, Datatype = (uint)type };
        JsonElement? v = answer.Value;
        JsonValueKind kind = v?.ValueKind ?? JsonValueKind.Undefined;
        switch (type)
        {
            case DataType.Boolean when kind is JsonValueKind.True or JsonValueKind.False:
                m.BooleanValue = kind == JsonValueKind.True;
                break;
            case DataType.Int64 when kind == JsonValueKind.Number && v!.Value.TryGetInt64(out long l):
                m.LongValue = unchecked((ulong)l);   // Sparkplug carries Int64 two's complement in long_value
                break;
            case DataType.Double when kind == JsonValueKind.Number:
                m.DoubleValue = v!.Value.GetDouble();
                break;
            case DataType.String when answer.AnswerType is null:
                m.StringValue = answer.Answer;
                break;
            case DataType.String when kind == JsonValueKind.String:
                m.StringValue = v!.Value.GetString()!;
                break;
            case DataType.String when kind is JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                m.StringValue = v!.Value.GetRawText();
                break;
            default:
                m.IsNull = true;
                break;
        }

        return m;
    }

    /// <summary>A metric with a name, a datatype and no value (<c>is_null</c>): a question not answered yet.</summary>
    public static Payload.Types.Metric Null(string name, DataType type) => new() { Name = name, Datatype = (uint)type, IsNull = true };

    public static Payload.Types.Metric String(string name, string value) => new() { Name = name, Datatype = (uint)DataType.String, StringValue = value };

    public static Payload.Types.Metric Double(string name, double value) => new() { Name = name, Datatype = (uint)DataType.Double, DoubleValue = value };

    public static Payload.Types.Metric Boolean(string name, bool value) => new() { Name = name, Datatype = (uint)DataType.Boolean, BooleanValue = value };

    public static Payload.Types.Metric UInt64(string name, ulong value) => new() { Name = name, Datatype = (uint)DataType.Uint64, LongValue = value };

    public static Payload.Types.Metric UInt32(string name, uint value) => new() { Name = name, Datatype = (uint)DataType.Uint32, IntValue = value };

    /// <summary>Completion tokens per second of decoding (of the whole answer when the decode time is unknown); 0 when no time was measured.</summary>
    public static double TokensPerSecondOf(AnswerMessage answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        double ms = answer.Timings.DecodeMs is > 0 and double d ? d : answer.Timings.TotalMs;
        return ms > 0 ? Math.Round(answer.CompletionTokens * 1000.0 / ms, 3) : 0;
    }
}
