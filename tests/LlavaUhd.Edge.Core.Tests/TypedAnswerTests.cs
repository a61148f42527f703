using System.Globalization;
using System.Text.Json;
using LlavaUhd.Edge.Core.Decoding;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>Typed answers: the specification, the grammars and the constrained vocabulary (docs/typed-answers.md).</summary>
public sealed class TypedAnswerTests
{
    private const string Schema = """
        {"type": "object", "properties": {
          "jam": {"type": "boolean"},
          "count": {"type": "integer", "minimum": 0, "maximum": 12},
          "fill": {"type": "number", "minimum": -1.5, "maximum": 99.25},
          "state": {"enum": ["empty", "one parcel", "jam"]},
          "code": {"type": "string", "maxLength": 4}},
         "required": ["jam"]}
        """;

    public static TheoryData<string, string> InvalidRequests => new()
    {
        { """{"answer_type": "maybe"}""", "answer_type 'maybe' is not one of yes_no, number, choice, json" },
        { """{"answer_type": 3}""", "answer_type must be one of" },
        { """{"answer_type": "choice"}""", "options is required for answer_type choice" },
        { """{"answer_type": "choice", "options": ["only"]}""", "options must hold 2..64 strings, got 1" },
        { """{"answer_type": "choice", "options": ["a", "A"]}""", "'A' appears twice" },
        { """{"answer_type": "choice", "options": ["a", 1]}""", "options must be an array of strings" },
        { """{"answer_type": "choice", "options": ["a", "say \"hi\""]}""", "printable ASCII" },
        { """{"answer_type": "number", "min": 5, "max": 1}""", "min (5) is greater than max (1)" },
        { """{"answer_type": "number", "min": 0.2, "max": 0.8, "integer": true}""", "no whole number lies between min (0.2) and max (0.8)" },
        { """{"answer_type": "number", "min": "0"}""", "min must be a number" },
        { """{"answer_type": "number", "integer": "yes"}""", "integer must be true or false" },
        { """{"answer_type": "json"}""", "schema is required for answer_type json" },
        { """{"answer_type": "json", "schema": {"type": "array"}}""", "schema.type must be \"object\"" },
        { """{"answer_type": "json", "schema": {"properties": {"a": {"type": "array"}}}}""", "schema.properties.a.type 'array' is not supported" },
        { """{"answer_type": "json", "schema": {"properties": {"a b": {"type": "boolean"}}}}""", "property name 'a b'" },
        { """{"answer_type": "json", "schema": {"properties": {"a": {"type": "string", "maxLength": 500}}}}""", "schema.properties.a.maxLength must be 1..128" },
        { """{"answer_type": "json", "schema": {"properties": {"a": {"type": "boolean"}}, "required": ["b"]}}""", "schema.required names 'b'" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public void InvalidSpecifications_GetASpecificError(string request, string expected)
    {
        using JsonDocument doc = JsonDocument.Parse(request);

        var ex = Assert.Throws<AnswerTypeException>(() => AnswerType.FromRequest(doc.RootElement));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidSpecifications_ReadEveryField_AndEqualOnesShareAKey()
    {
        using JsonDocument doc = JsonDocument.Parse($$"""{"question": "q", "answer_type": "json", "schema": {{Schema}}}""");
        AnswerType json = AnswerType.FromRequest(doc.RootElement)!;
        AnswerType again = AnswerType.Create("json", schemaJson: Schema);

        Assert.Equal(AnswerKind.Json, json.Kind);
        Assert.Equal(["jam", "count", "fill", "state", "code"], json.Fields.Select(f => f.Name));
        Assert.Equal([JsonFieldKind.Boolean, JsonFieldKind.Integer, JsonFieldKind.Number, JsonFieldKind.Enum, JsonFieldKind.String], json.Fields.Select(f => f.Kind));
        Assert.Equal(4, json.Fields[4].MaxLength);
        Assert.Equal(json.Key, again.Key);
        Assert.NotEqual(AnswerType.Number(0, 6, integer: true).Key, AnswerType.Number(0, 7, integer: true).Key);
        using JsonDocument none = JsonDocument.Parse("""{"question": "q"}""");
        Assert.Null(AnswerType.FromRequest(none.RootElement));
    }

    [Theory]
    [InlineData("yes", " yes", "true")]
    [InlineData("yes", "No", "false")]
    [InlineData("choice", " One Parcel", "\"one parcel\"")]
    [InlineData("number", " -1.25", "-1.25")]
    [InlineData("integer", " 12", "12")]
    public void ValidText_BecomesItsTypedValue(string kind, string text, string value)
    {
        AnswerType type = kind switch
        {
            "yes" => AnswerType.YesNo,
            "choice" => AnswerType.Choice(["empty", "one parcel", "jam"]),
            "number" => AnswerType.Number(-2, 2),
            _ => AnswerType.Number(0, 12, integer: true),
        };

        Assert.True(AnswerGrammar.For(type).Accepts(text), text);
        Assert.Equal(value, type.ToValue(text).GetRawText());
    }

    [Theory]
    [InlineData(0, 6, true, new[] { "0", " 6", "3" }, new[] { "7", "-1", "06", "3.0", "", " ", "-0", "10" })]
    [InlineData(-5, 5, false, new[] { "-5", "4.9999", "0.5", "-0.25", " 5" }, new[] { "5.0001", "-5.5", "00", "1.", ".5", "-0", "1.23456", "  1" })]
    [InlineData(10, 20, true, new[] { "10", "20", "15" }, new[] { "1", "2", "9", "21", "100" })]
    public void NumberGrammar_AcceptsExactlyTheNumbersInRange(double min, double max, bool integer, string[] accepted, string[] rejected)
    {
        AnswerGrammar g = AnswerGrammar.For(AnswerType.Number(min, max, integer));

        Assert.All(accepted, t => Assert.True(g.Accepts(t), $"'{t}' should be accepted"));
        Assert.All(rejected, t => Assert.False(g.Accepts(t), $"'{t}' should be rejected"));
    }

    public static TheoryData<string> Types => new() { "yes_no", "choice", "number", "bounded", "integer", "json" };

    private static AnswerType TypeNamed(string name) => name switch
    {
        "yes_no" => AnswerType.YesNo,
        "choice" => AnswerType.Choice(["empty", "one parcel", "jam", "e"]),
        "number" => AnswerType.Number(),
        "bounded" => AnswerType.Number(-3.5, 1234.5),
        "integer" => AnswerType.Number(7, 4096, integer: true),
        _ => AnswerType.Create("json", schemaJson: Schema),
    };

    /// <summary>
    /// From every state a random walk reaches, some completion exists, and every completed text is valid for its
    /// type: a decoder that follows the grammar can never get stuck or end with an invalid answer.
    /// </summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void RandomWalks_NeverDeadEnd_AndEveryCompletionIsValid(string name)
    {
        AnswerType type = TypeNamed(name);
        AnswerGrammar g = AnswerGrammar.For(type);
        var rng = new Random(5);
        char[] alphabet = [.. Enumerable.Range(32, 95).Select(i => (char)i)];
        for (int walk = 0; walk < 300; walk++)
        {
            int s = g.Start;
            string text = "";
            while (true)
            {
                char[] allowed = [.. alphabet.Where(c => g.Next(s, c) != AnswerGrammar.Reject)];
                Assert.True(allowed.Length > 0 || g.IsAccepting(s), $"dead end after '{text}'");
                if (allowed.Length == 0 || (g.IsAccepting(s) && rng.Next(4) == 0))
                {
                    break;
                }

                char c = allowed[rng.Next(allowed.Length)];
                s = g.Next(s, c);
                text += c;
                Assert.True(text.Length <= g.MaxLength, $"'{text}' is longer than MaxLength {g.MaxLength}");
            }

            JsonElement value = type.ToValue(text);
            switch (type.Kind)
            {
                case AnswerKind.Number:
                    double v = value.GetDouble();
                    Assert.InRange(v, type.Min ?? double.MinValue, type.Max ?? double.MaxValue);
                    Assert.True(!type.Integer || v == Math.Floor(v), text);
                    break;
                case AnswerKind.Json:
                    Assert.Equal(type.Fields.Select(f => f.Name), value.EnumerateObject().Select(p => p.Name));
                    Assert.InRange(value.GetProperty("count").GetInt32(), 0, 12);
                    Assert.InRange(value.GetProperty("fill").GetDouble(), -1.5, 99.25);
                    Assert.Contains(value.GetProperty("state").GetString(), new[] { "empty", "one parcel", "jam" });
                    Assert.InRange(value.GetProperty("code").GetString()!.Length, 1, 4);
                    break;
                case AnswerKind.YesNo:
                    Assert.True(value.ValueKind is JsonValueKind.True or JsonValueKind.False);
                    break;
                default:
                    Assert.Contains(value.GetString(), type.Options);
                    break;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void ToRequestJson_ReadsBackToAnEqualType(string name)
    {
        AnswerType type = TypeNamed(name);

        using JsonDocument doc = JsonDocument.Parse(type.ToRequestJson());

        Assert.Equal(type.Key, AnswerType.FromRequest(doc.RootElement)!.Key);
    }

    /// <summary>A vocabulary like a BPE one: every printable character alone, common words with and without a space, digits runs, specials.</summary>
    private static TokenVocabulary Vocabulary(out int stop)
    {
        var texts = new List<string?> { null, null };   // 0, 1: control tokens
        stop = 1;
        texts.AddRange(Enumerable.Range(32, 95).Select(i => ((char)i).ToString()));
        texts.AddRange(["yes", " yes", " Yes", "no", " no", " jam", " empty", " one", " parcel", "{\"", "\": ", ", \"", "true", "false", "\"}", "12", "99", " 4", "00", "é", "\u00A0x"]);
        texts.AddRange(Enumerable.Range(0, 200).Select(i => "w" + i.ToString(CultureInfo.InvariantCulture)));
        return new TokenVocabulary(texts, texts.Count + 7);   // seven unused rows past the tokenizer's ids
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void ConstrainedDecoding_WithRandomLogits_AlwaysEndsWithAValidAnswer(string name)
    {
        AnswerType type = TypeNamed(name);
        TokenVocabulary vocabulary = Vocabulary(out int stop);
        var constraint = new AnswerConstraint(type, vocabulary, [stop]);
        var rng = new Random(11);
        float[] logits = new float[vocabulary.Size];
        for (int run = 0; run < 200; run++)
        {
            constraint.Reset();
            var text = new System.Text.StringBuilder();
            for (int step = 0; ; step++)
            {
                Assert.True(step < constraint.MaxTokens, $"no stop within {constraint.MaxTokens} tokens: '{text}'");
                for (int i = 0; i < logits.Length; i++)
                {
                    logits[i] = (float)(rng.NextDouble() * 10);
                }

                constraint.Mask(logits);
                Assert.True(float.IsNegativeInfinity(logits[0]), "a control token stays masked");
                Assert.True(float.IsNegativeInfinity(logits[^1]), "unused rows stay masked");
                Assert.Equal(constraint.IsComplete, !float.IsNegativeInfinity(logits[stop]));
                int next = Array.IndexOf(logits, logits.Max());
                if (next == stop)
                {
                    break;
                }

                Assert.True(constraint.Advance(next));
                text.Append(vocabulary.TextOf(next));
                if (constraint.MustStop)
                {
                    break;
                }
            }

            Assert.True(AnswerGrammar.For(type).Accepts(text.ToString()), $"'{text}'");
            _ = type.ToValue(text.ToString());
        }
    }

    [Fact]
    public void Masks_AllowWholeWordTokens_AndOnlyValidOnes()
    {
        TokenVocabulary vocabulary = Vocabulary(out int stop);
        var constraint = new AnswerConstraint(AnswerType.YesNo, vocabulary, [stop]);
        float[] logits = new float[vocabulary.Size];

        constraint.Mask(logits);

        string[] allowed = [.. Enumerable.Range(0, logits.Length).Where(i => !float.IsNegativeInfinity(logits[i])).Select(i => vocabulary.TextOf(i)!)];
        Assert.Equal(new[] { " ", " Yes", " no", " yes", "N", "Y", "n", "no", "y", "yes" }, allowed.Order(StringComparer.Ordinal));
        Assert.False(constraint.IsComplete);
        Assert.True(constraint.Advance(Array.IndexOf([.. Enumerable.Range(0, vocabulary.Size).Select(vocabulary.TextOf)], " Yes")));
        Assert.True(constraint.MustStop);
    }

    [Fact]
    public void AWarmConstraint_AllocatesNothingPerToken()
    {
        TokenVocabulary vocabulary = Vocabulary(out int stop);
        var constraint = new AnswerConstraint(TypeNamed("json"), vocabulary, [stop]);
        float[] logits = new float[vocabulary.Size];
        int[] script = [.. Tokens(vocabulary, "{\"", "jam", "\": ", "true", ", \"", "count", "\": ", "12", ", \"", "fill", "\": ", "9", "9", ".", "2", ", \"", "state", "\": ", "\"", "jam", "\"", ", \"", "code", "\": ", "\"", "w1", "\"}")];

        void Run()
        {
            constraint.Reset();
            foreach (int id in script)
            {
                Array.Clear(logits);
                constraint.Mask(logits);
                Assert.False(float.IsNegativeInfinity(logits[id]), vocabulary.TextOf(id));
                Assert.True(constraint.Advance(id));
            }
        }

        Run();   // builds the masks of the states on the way
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(constraint.IsComplete);
        Assert.Equal(0, allocated);
    }

    private static IEnumerable<int> Tokens(TokenVocabulary vocabulary, params string[] pieces)
    {
        foreach (string piece in pieces)
        {
            int id = Enumerable.Range(0, vocabulary.Size).FirstOrDefault(i => vocabulary.TextOf(i) == piece, -1);
            if (id >= 0)
            {
                yield return id;
                continue;
            }

            foreach (char c in piece)
            {
                yield return Enumerable.Range(0, vocabulary.Size).First(i => vocabulary.TextOf(i) == c.ToString());
            }
        }
    }

    [Theory]
    [InlineData(StopReason.StopToken, "stop_token")]
    [InlineData(StopReason.MaxTokens, "max_tokens")]
    [InlineData(StopReason.Cancelled, "cancelled")]
    public void StopReason_PrintsItsPublishedName(StopReason reason, string name) => Assert.Equal(name, reason.ToName());
}
