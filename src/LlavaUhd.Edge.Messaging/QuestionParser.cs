using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// Validates payloads of <c>ask</c> and <c>set</c> topics. Never throws on bad input: size, UTF-8, JSON syntax,
/// field types and ranges, camera and setting names each give a specific <see cref="RequestError"/>.
/// </summary>
/// <remarks>
/// Ask payload: <c>{"question": string (required), "id": string, "roi": {"x","y","width","height"},
/// "max_tokens": int, "frame": int, "reply_to": topic, "correlation_id": string|number, "answer_type": "yes_no"|"number"|"choice"|"json"
/// with "min", "max", "integer", "options", "schema" (docs/typed-answers.md)}</c>; unknown fields are ignored.
/// </remarks>
public sealed class QuestionParser
{
    public const int MaxQuestionChars = 4000;
    public const int MaxIdChars = 128;
    public const int MaxTokensLimit = 8192;

    private static readonly JsonDocumentOptions s_json = new() { MaxDepth = 16 };

    private readonly HashSet<string> _cameras;
    private readonly int _maxPayloadBytes;
    private readonly TimeProvider _time;

    public QuestionParser(IEnumerable<string> cameras, int maxPayloadBytes, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadBytes, 1);
        _cameras = new HashSet<string>(cameras, StringComparer.Ordinal);
        _maxPayloadBytes = maxPayloadBytes;
        _time = time ?? TimeProvider.System;
    }

    public IReadOnlyCollection<string> Cameras => _cameras;

    public bool IsKnownCamera(string camera) => _cameras.Contains(camera);

    /// <summary>Parses an ask payload. <paramref name="route"/> holds the MQTT 5 reply properties, if any.</summary>
    public ParseResult<Question> ParseAsk(string camera, ReadOnlySpan<byte> payload, ReplyRoute route, bool shared = false)
    {
        try
        {
            return ParseAskCore(camera, payload, route, shared);
        }
        catch (InvalidOperationException ex)
        {
            // System.Text.Json reads a string with a lone surrogate escape ("\ud83d" without its pair) only when asked for it
            return new(null, new RequestError(ErrorCodes.InvalidJson, $"Payload holds a string that is not valid Unicode: {ex.Message}"), route);
        }
    }

    private ParseResult<Question> ParseAskCore(string camera, ReadOnlySpan<byte> payload, ReplyRoute route, bool shared)
    {
        if (CheckBytes(payload) is RequestError early)
        {
            return new(null, early, route);
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(payload.ToArray(), s_json);
        }
        catch (JsonException ex)
        {
            return new(null, new RequestError(ErrorCodes.InvalidJson, $"Payload is not JSON: {ex.Message}"), route);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new(null, new RequestError(ErrorCodes.InvalidJson, $"Payload must be a JSON object, not {root.ValueKind}."), route);
            }

            // The reply route first, so that every later error reaches a 3.1.1 asker too.
            RequestError? error = ReadRoute(root, ref route);
            if (error is not null)
            {
                return new(null, error, route);
            }

            if (!IsKnownCamera(camera))
            {
                return new(null, UnknownCamera(camera), route);
            }

            if (!root.TryGetProperty("question", out JsonElement q) || q.ValueKind != JsonValueKind.String)
            {
                return new(null, Field("question", "is required and must be a string"), route);
            }

            string text = q.GetString()!.Trim();
            if (text.Length is 0 or > MaxQuestionChars)
            {
                return new(null, Field("question", $"must be 1..{MaxQuestionChars} characters"), route);
            }

            string? id = null;
            if (root.TryGetProperty("id", out JsonElement idEl) && idEl.ValueKind != JsonValueKind.Null)
            {
                if (idEl.ValueKind != JsonValueKind.String || idEl.GetString()!.Length is 0 or > MaxIdChars)
                {
                    return new(null, Field("id", $"must be a string of 1..{MaxIdChars} characters"), route);
                }

                id = idEl.GetString();
            }

            RoiRect? roi = null;
            if (root.TryGetProperty("roi", out JsonElement roiEl) && roiEl.ValueKind != JsonValueKind.Null)
            {
                if (!TryReadRoi(roiEl, out roi))
                {
                    return new(null, Field("roi", "must be {\"x\",\"y\",\"width\",\"height\"} with integers x,y >= 0 and width,height > 0"), route);
                }
            }

            int? maxTokens = null;
            if (root.TryGetProperty("max_tokens", out JsonElement mt) && mt.ValueKind != JsonValueKind.Null)
            {
                if (mt.ValueKind != JsonValueKind.Number || !mt.TryGetInt32(out int m) || m is < 1 or > MaxTokensLimit)
                {
                    return new(null, Field("max_tokens", $"must be an integer in 1..{MaxTokensLimit}"), route);
                }

                maxTokens = m;
            }

            long? frame = null;
            if (root.TryGetProperty("frame", out JsonElement fr) && fr.ValueKind != JsonValueKind.Null)
            {
                if (fr.ValueKind != JsonValueKind.Number || !fr.TryGetInt64(out long f) || f < 0)
                {
                    return new(null, Field("frame", "must be a frame sequence number (an answer's frame_sequence), an integer >= 0"), route);
                }

                frame = f;
            }

            AnswerType? answerType;
            try
            {
                answerType = AnswerType.FromRequest(root);
            }
            catch (AnswerTypeException ex)
            {
                return new(null, new RequestError(ErrorCodes.InvalidAnswerType, ex.Message), route);
            }

            var question = new Question
            {
                AnswerType = answerType,
                Frame = frame,
                Id = id ?? Guid.NewGuid().ToString("N"),
                Camera = camera,
                Text = text,
                Roi = roi,
                MaxTokens = maxTokens,
                Reply = route,
                Shared = shared,
                ReceivedAt = _time.GetUtcNow(),
            };
            return new(question, null, route);
        }
    }

    /// <summary>
    /// Parses a set payload: a JSON value (<c>true</c>, <c>"text"</c>, <c>5</c>); <c>enable</c> also takes the bare
    /// words ON/OFF/true/false as Home Assistant switches send them.
    /// </summary>
    public ParseResult<SettingChange> ParseSetting(string camera, string setting, ReadOnlySpan<byte> payload, ReplyRoute route)
    {
        try
        {
            return ParseSettingCore(camera, setting, payload, route);
        }
        catch (InvalidOperationException ex)
        {
            return new(null, new RequestError(ErrorCodes.InvalidJson, $"Payload holds a string that is not valid Unicode: {ex.Message}"), route);
        }
    }

    private ParseResult<SettingChange> ParseSettingCore(string camera, string setting, ReadOnlySpan<byte> payload, ReplyRoute route)
    {
        if (CheckBytes(payload) is RequestError early)
        {
            return new(null, early, route);
        }

        if (!IsKnownCamera(camera))
        {
            return new(null, UnknownCamera(camera), route);
        }

        CameraSetting kind;
        switch (setting)
        {
            case "enable": kind = CameraSetting.Enable; break;
            case "question": kind = CameraSetting.Question; break;
            case "interval": kind = CameraSetting.Interval; break;
            default:
                return new(null, new RequestError(ErrorCodes.UnknownSetting, $"Unknown setting '{setting}'; expected enable, question or interval."), route);
        }

        string raw = Encoding.UTF8.GetString(payload).Trim();
        if (kind == CameraSetting.Enable)
        {
            bool? on = raw.ToUpperInvariant() switch
            {
                "ON" or "TRUE" or "\"ON\"" or "\"TRUE\"" or "1" => true,
                "OFF" or "FALSE" or "\"OFF\"" or "\"FALSE\"" or "0" => false,
                _ => null,
            };
            return on is null
                ? new(null, Field("enable", "must be true/false or ON/OFF"), route)
                : new(new SettingChange { Camera = camera, Setting = kind, Enabled = on, Reply = route }, null, route);
        }

        JsonElement value;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(payload.ToArray(), s_json);
            value = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return new(null, new RequestError(ErrorCodes.InvalidJson, $"Payload is not a JSON value: {ex.Message}"), route);
        }

        if (kind == CameraSetting.Question)
        {
            // "text" keeps the question's answer type; {"question": "text", "answer_type": …} sets it (null: free text)
            JsonElement q = value.ValueKind == JsonValueKind.Object && value.TryGetProperty("question", out JsonElement inner) ? inner : value;
            string? text = q.ValueKind == JsonValueKind.String ? q.GetString()!.Trim() : null;
            if (text is null || text.Length is 0 or > MaxQuestionChars)
            {
                return new(null, Field("question", $"must be a JSON string of 1..{MaxQuestionChars} characters, or an object with it as \"question\" and an \"answer_type\""), route);
            }

            var change = new SettingChange { Camera = camera, Setting = kind, Question = text, Reply = route };
            if (value.ValueKind == JsonValueKind.Object)
            {
                try
                {
                    change = change with { SetsAnswerType = true, AnswerType = AnswerType.FromRequest(value) };
                }
                catch (AnswerTypeException ex)
                {
                    return new(null, new RequestError(ErrorCodes.InvalidAnswerType, ex.Message), route);
                }
            }

            return new(change, null, route);
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double seconds) || !(seconds is > 0 and <= 86_400))
        {
            return new(null, Field("interval", "must be a number of seconds in (0, 86400]"), route);
        }

        return new(new SettingChange { Camera = camera, Setting = kind, IntervalS = seconds, Reply = route }, null, route);
    }

    /// <summary>True for a topic a reply may be published to: non-empty, no wildcards, no NUL, at most 1024 characters.</summary>
    public static bool IsValidReplyTopic(string? topic) =>
        !string.IsNullOrEmpty(topic) && topic.Length <= 1024 && topic.AsSpan().IndexOfAny("+#\0") < 0 && !topic.StartsWith('$');

    private RequestError? CheckBytes(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > _maxPayloadBytes)
        {
            return new RequestError(ErrorCodes.PayloadTooLarge, $"Payload of {payload.Length} bytes exceeds the limit of {_maxPayloadBytes}.");
        }

        if (!Utf8.IsValid(payload))
        {
            return new RequestError(ErrorCodes.InvalidUtf8, "Payload is not valid UTF-8.");
        }

        return payload.IsEmpty ? new RequestError(ErrorCodes.InvalidJson, "Payload is empty.") : null;
    }

    private static RequestError? ReadRoute(JsonElement root, ref ReplyRoute route)
    {
        if (root.TryGetProperty("correlation_id", out JsonElement c) && c.ValueKind != JsonValueKind.Null)
        {
            string? id = c.ValueKind switch
            {
                JsonValueKind.String => c.GetString(),
                JsonValueKind.Number => c.GetRawText(),
                _ => null,
            };
            if (id is null || id.Length > 256)
            {
                return Field("correlation_id", "must be a string or number of at most 256 characters");
            }

            route = route with { CorrelationId = id };
        }

        if (root.TryGetProperty("reply_to", out JsonElement r) && r.ValueKind != JsonValueKind.Null)
        {
            string? topic = r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            if (!IsValidReplyTopic(topic))
            {
                return Field("reply_to", "must be a topic name without wildcards");
            }

            // An MQTT 5 Response Topic wins; reply_to serves MQTT 3.1.1 askers.
            if (!route.HasResponseTopic)
            {
                route = route with { ResponseTopic = topic };
            }
        }

        return null;
    }

    private static bool TryReadRoi(JsonElement e, out RoiRect? roi)
    {
        roi = null;
        if (e.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        Span<int> v = stackalloc int[4];
        ReadOnlySpan<string> names = ["x", "y", "width", "height"];
        for (int i = 0; i < 4; i++)
        {
            if (!e.TryGetProperty(names[i], out JsonElement p) || p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out v[i]))
            {
                return false;
            }
        }

        if (v[0] < 0 || v[1] < 0 || v[2] <= 0 || v[3] <= 0)
        {
            return false;
        }

        roi = new RoiRect(v[0], v[1], v[2], v[3]);
        return true;
    }

    private static RequestError Field(string name, string problem) => new(ErrorCodes.InvalidField, $"Field '{name}' {problem}.");

    private static RequestError UnknownCamera(string camera) => new(ErrorCodes.UnknownCamera, $"Unknown camera '{camera}'.");
}
