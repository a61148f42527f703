using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>
/// What an answer must be: a boolean, a number in a range, one of a few options, or a small JSON object. The decoder
/// is constrained to produce only text of this type (docs/typed-answers.md); <see cref="ToValue"/> turns that text into
/// the typed JSON value. Immutable; <see cref="Key"/> identifies equal specifications (masks are cached by it).
/// </summary>
public sealed record AnswerType
{
    public const int MaxOptions = 64;
    public const int MaxOptionChars = 64;
    public const int MaxFields = 16;
    public const int DefaultStringLength = 32;
    public const int MaxStringLength = 128;

    /// <summary>Digits before the decimal point a number may have (beyond them the value loses integer precision in a double).</summary>
    public const int MaxIntegerDigits = 15;

    /// <summary>Digits after the decimal point a non-integer number may have.</summary>
    public const int MaxFractionDigits = 4;

    public static IReadOnlyList<string> Names { get; } = ["yes_no", "number", "choice", "json"];

    private AnswerType(AnswerKind kind) => Kind = kind;

    public AnswerKind Kind { get; }

    /// <summary>Lowest allowed number (<see cref="AnswerKind.Number"/>).</summary>
    public double? Min { get; private init; }

    public double? Max { get; private init; }

    /// <summary>Whole numbers only (<see cref="AnswerKind.Number"/>).</summary>
    public bool Integer { get; private init; }

    /// <summary>The options of a <see cref="AnswerKind.Choice"/> (or <c>yes</c>, <c>no</c>).</summary>
    public ImmutableArray<string> Options { get; private init; } = [];

    /// <summary>The fields of a <see cref="AnswerKind.Json"/> answer.</summary>
    public ImmutableArray<JsonField> Fields { get; private init; } = [];

    /// <summary>The wire name: <c>yes_no</c>, <c>number</c>, <c>choice</c>, <c>json</c>.</summary>
    public string Name => Kind switch
    {
        AnswerKind.YesNo => "yes_no",
        AnswerKind.Number => "number",
        AnswerKind.Choice => "choice",
        _ => "json",
    };

    /// <summary>A canonical text of the whole specification: equal keys, equal constraints.</summary>
    public string Key => _key ??= BuildKey();

    private string? _key;

    public static AnswerType YesNo { get; } = new(AnswerKind.YesNo) { Options = ["yes", "no"] };

    public static AnswerType Number(double? min = null, double? max = null, bool integer = false)
    {
        CheckRange("min", "max", min, max, integer);
        return new AnswerType(AnswerKind.Number) { Min = min, Max = max, Integer = integer };
    }

    public static AnswerType Choice(IEnumerable<string> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new AnswerType(AnswerKind.Choice) { Options = CheckOptions("options", [.. options]) };
    }

    public static AnswerType Json(IEnumerable<JsonField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ImmutableArray<JsonField> list = [.. fields];
        if (list.Length is 0 or > MaxFields)
        {
            throw new AnswerTypeException($"schema: an object of 1..{MaxFields} properties is required, got {list.Length}.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonField f in list)
        {
            if (!IsPlainName(f.Name))
            {
                throw new AnswerTypeException($"schema: property name '{f.Name}' must be 1..{MaxOptionChars} characters of letters, digits and _.");
            }

            if (!names.Add(f.Name))
            {
                throw new AnswerTypeException($"schema: property '{f.Name}' appears twice.");
            }

            switch (f.Kind)
            {
                case JsonFieldKind.Integer or JsonFieldKind.Number:
                    CheckRange($"schema.properties.{f.Name}.minimum", $"schema.properties.{f.Name}.maximum", f.Min, f.Max, f.Kind == JsonFieldKind.Integer);
                    break;
                case JsonFieldKind.Enum:
                    CheckOptions($"schema.properties.{f.Name}.enum", f.Options);
                    break;
                case JsonFieldKind.String when f.MaxLength is < 1 or > MaxStringLength:
                    throw new AnswerTypeException($"schema.properties.{f.Name}.maxLength must be 1..{MaxStringLength}, got {f.MaxLength}.");
            }
        }

        return new AnswerType(AnswerKind.Json) { Fields = list };
    }

    /// <summary>
    /// Reads a typed answer from a request object: <c>answer_type</c> (<c>yes_no</c>, <c>number</c>, <c>choice</c>,
    /// <c>json</c>) and its companions <c>min</c>, <c>max</c>, <c>integer</c>, <c>options</c>, <c>schema</c>. Null when
    /// the object has no <c>answer_type</c> (or it is null): a free-text answer.
    /// </summary>
    /// <exception cref="AnswerTypeException">The specification is invalid; the message names the field.</exception>
    public static AnswerType? FromRequest(JsonElement request)
    {
        if (request.ValueKind != JsonValueKind.Object || !request.TryGetProperty("answer_type", out JsonElement kind) || kind.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (kind.ValueKind != JsonValueKind.String)
        {
            throw new AnswerTypeException($"answer_type must be one of {string.Join(", ", Names)} (a string), not {kind.ValueKind}.");
        }

        string name = kind.GetString()!;
        return name switch
        {
            "yes_no" => YesNo,
            "number" => Number(OptionalNumber(request, "min"), OptionalNumber(request, "max"), OptionalBool(request, "integer")),
            "choice" => Choice(request.TryGetProperty("options", out JsonElement o) ? StringArray(o, "options") : throw new AnswerTypeException("options is required for answer_type choice (an array of strings).")),
            "json" => request.TryGetProperty("schema", out JsonElement s) ? FromSchema(s) : throw new AnswerTypeException("schema is required for answer_type json (a JSON Schema object)."),
            _ => throw new AnswerTypeException($"answer_type '{Shorten(name)}' is not one of {string.Join(", ", Names)}."),
        };
    }

    /// <summary>
    /// Builds a typed answer from separate values (configuration, command line): <paramref name="name"/> as in
    /// <c>answer_type</c>, <paramref name="schemaJson"/> the JSON Schema text for <c>json</c>.
    /// </summary>
    public static AnswerType Create(string name, IReadOnlyList<string>? options = null, double? min = null, double? max = null, bool integer = false, string? schemaJson = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        switch (name)
        {
            case "yes_no":
                return YesNo;
            case "number":
                return Number(min, max, integer);
            case "choice":
                return Choice(options is { Count: > 0 } ? options : throw new AnswerTypeException("options is required for answer_type choice."));
            case "json":
                if (string.IsNullOrWhiteSpace(schemaJson))
                {
                    throw new AnswerTypeException("schema is required for answer_type json (a JSON Schema object).");
                }

                JsonDocument doc;
                try
                {
                    doc = JsonDocument.Parse(schemaJson, new JsonDocumentOptions { MaxDepth = 8 });
                }
                catch (JsonException ex)
                {
                    throw new AnswerTypeException($"schema is not JSON: {ex.Message}");
                }

                using (doc)
                {
                    return FromSchema(doc.RootElement);
                }

            default:
                throw new AnswerTypeException($"answer_type '{Shorten(name)}' is not one of {string.Join(", ", Names)}.");
        }
    }

    /// <summary>
    /// A JSON Schema of the supported subset: <c>{"type": "object", "properties": {name: {"type": "boolean" |
    /// "integer" | "number" | "string", "minimum", "maximum", "enum", "maxLength"}}, "required": [...]}</c>. Every
    /// property is produced, in the schema's order.
    /// </summary>
    public static AnswerType FromSchema(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new AnswerTypeException($"schema must be a JSON Schema object, not {schema.ValueKind}.");
        }

        if (schema.TryGetProperty("type", out JsonElement t) && !(t.ValueKind == JsonValueKind.String && t.GetString() == "object"))
        {
            throw new AnswerTypeException("schema.type must be \"object\".");
        }

        if (!schema.TryGetProperty("properties", out JsonElement props) || props.ValueKind != JsonValueKind.Object)
        {
            throw new AnswerTypeException("schema.properties is required (an object of typed fields).");
        }

        var fields = new List<JsonField>();
        foreach (JsonProperty p in props.EnumerateObject())
        {
            string path = "schema.properties." + Shorten(p.Name);
            JsonElement f = p.Value;
            if (f.ValueKind != JsonValueKind.Object)
            {
                throw new AnswerTypeException($"{path} must be an object.");
            }

            if (f.TryGetProperty("enum", out JsonElement e))
            {
                fields.Add(new JsonField(p.Name, JsonFieldKind.Enum) { Options = StringArray(e, path + ".enum") });
                continue;
            }

            string type = f.TryGetProperty("type", out JsonElement ft) && ft.ValueKind == JsonValueKind.String
                ? ft.GetString()!
                : throw new AnswerTypeException($"{path}.type is required: boolean, integer, number or string.");
            fields.Add(type switch
            {
                "boolean" => new JsonField(p.Name, JsonFieldKind.Boolean),
                "integer" => new JsonField(p.Name, JsonFieldKind.Integer) { Min = OptionalNumber(f, "minimum", path), Max = OptionalNumber(f, "maximum", path) },
                "number" => new JsonField(p.Name, JsonFieldKind.Number) { Min = OptionalNumber(f, "minimum", path), Max = OptionalNumber(f, "maximum", path) },
                "string" => new JsonField(p.Name, JsonFieldKind.String) { MaxLength = (int?)OptionalNumber(f, "maxLength", path) ?? DefaultStringLength },
                _ => throw new AnswerTypeException($"{path}.type '{Shorten(type)}' is not supported: boolean, integer, number, string (with enum) are."),
            });
        }

        if (schema.TryGetProperty("required", out JsonElement req))
        {
            foreach (string r in StringArray(req, "schema.required", allowEmpty: true))
            {
                if (!fields.Any(f => f.Name == r))
                {
                    throw new AnswerTypeException($"schema.required names '{Shorten(r)}', which is not in schema.properties.");
                }
            }
        }

        return Json(fields);
    }

    /// <summary>
    /// This type as the fields of a request (<c>{"answer_type": …, "min", "max", "integer", "options", "schema"}</c>),
    /// which <see cref="FromRequest"/> reads back to an equal type (same <see cref="Key"/>): how a type set at runtime
    /// is persisted.
    /// </summary>
    public string ToRequestJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("answer_type", Name);
            switch (Kind)
            {
                case AnswerKind.Number:
                    WriteBounds(w, "min", "max", Min, Max);
                    w.WriteBoolean("integer", Integer);
                    break;
                case AnswerKind.Choice:
                    WriteStrings(w, "options", Options);
                    break;
                case AnswerKind.Json:
                    w.WriteStartObject("schema");
                    w.WriteString("type", "object");
                    w.WriteStartObject("properties");
                    foreach (JsonField f in Fields)
                    {
                        w.WriteStartObject(f.Name);
                        switch (f.Kind)
                        {
                            case JsonFieldKind.Enum:
                                WriteStrings(w, "enum", f.Options);
                                break;
                            case JsonFieldKind.String:
                                w.WriteString("type", "string");
                                w.WriteNumber("maxLength", f.MaxLength);
                                break;
                            default:
                                w.WriteString("type", f.Kind.ToString().ToLowerInvariant());
                                WriteBounds(w, "minimum", "maximum", f.Min, f.Max);
                                break;
                        }

                        w.WriteEndObject();
                    }

                    w.WriteEndObject();
                    w.WriteEndObject();
                    break;
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteBounds(Utf8JsonWriter w, string minName, string maxName, double? min, double? max)
    {
        if (min is { } lo)
        {
            w.WriteNumber(minName, lo);
        }

        if (max is { } hi)
        {
            w.WriteNumber(maxName, hi);
        }
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, ImmutableArray<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    /// <summary>
    /// The typed value of <paramref name="text"/>, which the constrained decoder produced for this type (a leading
    /// space and letter case of options are allowed). Throws <see cref="FormatException"/> for text of another type.
    /// </summary>
    public JsonElement ToValue(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        string json = Kind switch
        {
            AnswerKind.YesNo => MatchOption(t) == "yes" ? "true" : "false",
            AnswerKind.Choice => JsonSerializer.Serialize(MatchOption(t)),
            AnswerKind.Number => CheckNumber(t),
            _ => t,
        };
        using JsonDocument doc = JsonDocument.Parse(json);
        if (Kind == AnswerKind.Json && doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"'{Shorten(t)}' is not a JSON object.");
        }

        return doc.RootElement.Clone();
    }

    private string MatchOption(string text)
    {
        foreach (string o in Options)
        {
            if (string.Equals(o, text, StringComparison.OrdinalIgnoreCase))
            {
                return o;
            }
        }

        throw new FormatException($"'{Shorten(text)}' is not one of {string.Join(", ", Options)}.");
    }

    private string CheckNumber(string text)
    {
        if (!double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v)
            || (Integer && text.Contains('.', StringComparison.Ordinal)) || v < (Min ?? double.MinValue) || v > (Max ?? double.MaxValue))
        {
            throw new FormatException($"'{Shorten(text)}' is not a number of this type.");
        }

        return text;
    }

    private string BuildKey()
    {
        var b = new StringBuilder(Name);
        switch (Kind)
        {
            case AnswerKind.Number:
                b.Append(CultureInfo.InvariantCulture, $"|{Min}|{Max}|{Integer}");
                break;
            case AnswerKind.Choice:
                b.Append('|').Append(JsonSerializer.Serialize(Options.ToArray()));
                break;
            case AnswerKind.Json:
                foreach (JsonField f in Fields)
                {
                    b.Append(CultureInfo.InvariantCulture, $"|{f.Name}:{f.Kind}:{f.Min}:{f.Max}:{f.MaxLength}:").Append(JsonSerializer.Serialize(f.Options.ToArray()));
                }

                break;
        }

        return b.ToString();
    }

    private static void CheckRange(string minName, string maxName, double? min, double? max, bool integer)
    {
        const double limit = 999_999_999_999_999;
        foreach ((string name, double? v) in new[] { (minName, min), (maxName, max) })
        {
            if (v is { } x && (!double.IsFinite(x) || Math.Abs(x) > limit))
            {
                throw new AnswerTypeException($"{name} must be a finite number within ±{limit.ToString("0", CultureInfo.InvariantCulture)}.");
            }
        }

        if (min > max)
        {
            throw new AnswerTypeException(string.Create(CultureInfo.InvariantCulture, $"{minName} ({min}) is greater than {maxName} ({max})."));
        }

        if (integer && min is { } lo && max is { } hi && Math.Floor(hi) < Math.Ceiling(lo))
        {
            throw new AnswerTypeException(string.Create(CultureInfo.InvariantCulture, $"no whole number lies between {minName} ({lo}) and {maxName} ({hi})."));
        }
    }

    private static ImmutableArray<string> CheckOptions(string name, ImmutableArray<string> options)
    {
        if (options.Length is < 2 or > MaxOptions)
        {
            throw new AnswerTypeException($"{name} must hold 2..{MaxOptions} strings, got {options.Length}.");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string o in options)
        {
            if (o.Length is 0 or > MaxOptionChars || o.Trim().Length != o.Length || !o.All(c => c is >= ' ' and <= '~' and not '"' and not '\\'))
            {
                throw new AnswerTypeException($"{name}: '{Shorten(o)}' must be 1..{MaxOptionChars} printable ASCII characters (no quotes or backslashes, no leading or trailing spaces).");
            }

            if (!seen.Add(o))
            {
                throw new AnswerTypeException($"{name}: '{o}' appears twice (options are compared ignoring case).");
            }
        }

        return options;
    }

    private static ImmutableArray<string> StringArray(JsonElement e, string name, bool allowEmpty = false)
    {
        if (e.ValueKind != JsonValueKind.Array || (!allowEmpty && e.GetArrayLength() == 0) || e.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
        {
            throw new AnswerTypeException($"{name} must be an array of strings.");
        }

        return [.. e.EnumerateArray().Select(x => x.GetString()!)];
    }

    private static double? OptionalNumber(JsonElement o, string name, string? path = null)
    {
        if (!o.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d)
            ? d
            : throw new AnswerTypeException($"{(path is null ? name : path + "." + name)} must be a number.");
    }

    private static bool OptionalBool(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return false;
        }

        return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw new AnswerTypeException($"{name} must be true or false.");
    }

    private static bool IsPlainName(string name) =>
        name.Length is > 0 and <= MaxOptionChars && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
