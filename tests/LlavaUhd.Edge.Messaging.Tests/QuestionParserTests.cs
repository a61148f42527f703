using System.Text;
using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Messaging.Tests;

public sealed class QuestionParserTests
{
    private readonly QuestionParser _parser = new(["cam1", "dock"], maxPayloadBytes: 1024);

    private ParseResult<Question> Ask(string json, string camera = "cam1", ReplyRoute? route = null) =>
        _parser.ParseAsk(camera, Encoding.UTF8.GetBytes(json), route ?? ReplyRoute.None);

    [Fact]
    public void Valid_AllFields()
    {
        ParseResult<Question> r = Ask("""{"question":" Is it on? ","id":"q7","roi":{"x":1,"y":2,"width":3,"height":4},"max_tokens":9,"reply_to":"r/t","correlation_id":17,"extra":true}""");
        Question q = Assert.IsType<Question>(r.Value);
        Assert.Equal("Is it on?", q.Text);
        Assert.Equal("q7", q.Id);
        Assert.Equal(new RoiRect(1, 2, 3, 4), q.Roi);
        Assert.Equal(9, q.MaxTokens);
        Assert.Equal("r/t", q.Reply.ResponseTopic);
        Assert.Equal("17", q.Reply.CorrelationId);
    }

    [Fact]
    public void Frame_ReferencesAnAnsweredFrame()
    {
        Assert.Equal(41L, Ask("""{"question":"x","frame":41}""").Value!.Frame);
        Assert.Null(Ask("""{"question":"x"}""").Value!.Frame);
        Assert.Equal(ErrorCodes.InvalidField, Ask("""{"question":"x","frame":-1}""").Error!.Code);
        Assert.Equal(ErrorCodes.InvalidField, Ask("""{"question":"x","frame":"41"}""").Error!.Code);
    }

    [Fact]
    public void V5ResponseTopic_WinsOverReplyTo()
    {
        var route = new ReplyRoute { ResponseTopic = "v5/resp", CorrelationData = [1] };
        Question q = Ask("""{"question":"x","reply_to":"v3/resp"}""", route: route).Value!;
        Assert.Equal("v5/resp", q.Reply.ResponseTopic);
        Assert.Equal(new byte[] { 1 }, q.Reply.CorrelationData);
    }

    [Theory]
    [InlineData("{", ErrorCodes.InvalidJson)]
    [InlineData("", ErrorCodes.InvalidJson)]
    [InlineData("\"just a string\"", ErrorCodes.InvalidJson)]
    [InlineData("{}", ErrorCodes.InvalidField)]
    [InlineData("""{"question":""}""", ErrorCodes.InvalidField)]
    [InlineData("""{"question":["a"]}""", ErrorCodes.InvalidField)]
    [InlineData("""{"question":"a","id":5}""", ErrorCodes.InvalidField)]
    [InlineData("""{"question":"a","roi":{"x":0,"y":0,"width":0,"height":5}}""", ErrorCodes.InvalidField)]
    [InlineData("""{"question":"a","roi":[1,2,3,4]}""", ErrorCodes.InvalidField)]
    [InlineData("""{"question":"a","max_tokens":1.5}""", ErrorCodes.InvalidField)]
    [InlineData("""{"question":"a","reply_to":"a/+/b"}""", ErrorCodes.InvalidField)]
    [InlineData("""{"question":"a","correlation_id":{}}""", ErrorCodes.InvalidField)]
    public void Invalid_GivesSpecificError(string json, string code) => Assert.Equal(code, Ask(json).Error!.Code);

    [Fact]
    public void UnknownCamera_StillKnowsWhereToReply()
    {
        ParseResult<Question> r = Ask("""{"question":"a","reply_to":"r/1","correlation_id":"c"}""", camera: "cam9");
        Assert.Equal(ErrorCodes.UnknownCamera, r.Error!.Code);
        Assert.Equal("r/1", r.Reply.ResponseTopic);
        Assert.Equal("c", r.Reply.CorrelationId);
    }

    [Fact]
    public void Oversized_And_InvalidUtf8_AndDeepJson()
    {
        Assert.Equal(ErrorCodes.PayloadTooLarge, _parser.ParseAsk("cam1", new byte[1025], ReplyRoute.None).Error!.Code);
        Assert.Equal(ErrorCodes.InvalidUtf8, _parser.ParseAsk("cam1", [0x7B, 0xFF, 0x7D], ReplyRoute.None).Error!.Code);
        Assert.Equal(ErrorCodes.InvalidJson, Ask(new string('[', 100) + new string(']', 100)).Error!.Code);
    }

    [Theory]
    [InlineData("enable", "ON", true, null, null)]
    [InlineData("enable", "false", false, null, null)]
    [InlineData("question", "\"Any smoke?\"", null, "Any smoke?", null)]
    [InlineData("interval", "2.5", null, null, 2.5)]
    public void Settings_Valid(string setting, string payload, bool? enabled, string? question, double? interval)
    {
        SettingChange c = _parser.ParseSetting("dock", setting, Encoding.UTF8.GetBytes(payload), ReplyRoute.None).Value!;
        Assert.Equal(enabled, c.Enabled);
        Assert.Equal(question, c.Question);
        Assert.Equal(interval, c.IntervalS);
        Assert.Equal(setting, c.SettingName);
    }

    [Fact]
    public void AnswerType_IsReadFromTheAsk_AndAnInvalidOneIsRefusedWithItsReason()
    {
        Question q = Ask("""{"question":"How many?","answer_type":"number","min":0,"max":6,"integer":true}""").Value!;
        Assert.Equal(LlavaUhd.Edge.Core.Decoding.AnswerKind.Number, q.AnswerType!.Kind);
        Assert.Equal((0d, 6d, true), (q.AnswerType.Min, q.AnswerType.Max, q.AnswerType.Integer));
        Assert.Null(Ask("""{"question":"Free?"}""").Value!.AnswerType);

        RequestError e = Ask("""{"question":"Which?","answer_type":"choice","options":["left"],"reply_to":"r/t"}""").Error!;
        Assert.Equal(ErrorCodes.InvalidAnswerType, e.Code);
        Assert.Equal("options must hold 2..64 strings, got 1.", e.Message);
    }

    [Fact]
    public void QuestionSetting_AsAnObject_SetsTheAnswerType_AsAString_KeepsIt()
    {
        SettingChange typed = _parser.ParseSetting("dock", "question", Encoding.UTF8.GetBytes("""{"question":"Jammed?","answer_type":"yes_no"}"""), ReplyRoute.None).Value!;
        SettingChange cleared = _parser.ParseSetting("dock", "question", Encoding.UTF8.GetBytes("""{"question":"Describe it."}"""), ReplyRoute.None).Value!;
        SettingChange plain = _parser.ParseSetting("dock", "question", Encoding.UTF8.GetBytes("\"Jammed?\""), ReplyRoute.None).Value!;
        RequestError bad = _parser.ParseSetting("dock", "question", Encoding.UTF8.GetBytes("""{"question":"Jammed?","answer_type":"boolean"}"""), ReplyRoute.None).Error!;

        Assert.Equal(("Jammed?", true, "yes_no"), (typed.Question, typed.SetsAnswerType, typed.AnswerType?.Name));
        Assert.Equal((true, (string?)null), (cleared.SetsAnswerType, cleared.AnswerType?.Name));
        Assert.False(plain.SetsAnswerType);
        Assert.Equal(ErrorCodes.InvalidAnswerType, bad.Code);
    }

    [Theory]
    [InlineData("enable", "maybe", ErrorCodes.InvalidField)]
    [InlineData("question", "Any smoke?", ErrorCodes.InvalidJson)]
    [InlineData("question", "5", ErrorCodes.InvalidField)]
    [InlineData("interval", "0", ErrorCodes.InvalidField)]
    [InlineData("interval", "\"5\"", ErrorCodes.InvalidField)]
    [InlineData("zoom", "1", ErrorCodes.UnknownSetting)]
    public void Settings_Invalid(string setting, string payload, string code) =>
        Assert.Equal(code, _parser.ParseSetting("dock", setting, Encoding.UTF8.GetBytes(payload), ReplyRoute.None).Error!.Code);

    [Fact]
    public void Fuzz_MutatedQuestions_GetASpecificError_NeverAnException()
    {
        var parser = new QuestionParser(["cam1", "cam2"], 4096);
        string[] seeds =
        [
            """{"question":"Is the door open?","id":"q-17","roi":{"x":0,"y":0,"width":640,"height":480},"max_tokens":32,"reply_to":"plc/replies","correlation_id":"job-42"}""",
            """{"question":"How many parcels?","frame":12}""",
            """{"question":"\u00e9t\u00e9 \ud83d\udce6","max_tokens":1}""",
        ];
        string[] known = [ErrorCodes.PayloadTooLarge, ErrorCodes.InvalidUtf8, ErrorCodes.InvalidJson, ErrorCodes.InvalidField, ErrorCodes.UnknownCamera];
        byte[] alphabet = System.Text.Encoding.UTF8.GetBytes("{}[]\":,0123456789-.eE truefalsnul\\/u\u00ff");
        var rng = new Random(2026);
        int accepted = 0;
        for (int i = 0; i < 6000; i++)
        {
            byte[] data = System.Text.Encoding.UTF8.GetBytes(seeds[i % seeds.Length]);
            for (int k = 1 + rng.Next(6); k > 0 && data.Length > 0; k--)
            {
                int at = rng.Next(data.Length);
                data = rng.Next(4) switch
                {
                    0 => [.. data[..at], .. data[(at + 1)..]],
                    1 => [.. data[..at], alphabet[rng.Next(alphabet.Length)], .. data[at..]],
                    2 => data[..at],
                    _ => [.. data[..at], (byte)rng.Next(256), .. data[(at + 1)..]],
                };
            }

            ParseResult<SettingChange> setting = parser.ParseSetting("cam1", "question", data, new ReplyRoute());
            Assert.True(setting.Value is not null || setting.Error is not null);
            ParseResult<Question> r = parser.ParseAsk(rng.Next(8) == 0 ? "cam9" : "cam1", data, new ReplyRoute());
            if (r.Value is null)
            {
                Assert.NotNull(r.Error);
                Assert.Contains(r.Error!.Code, known);
                Assert.False(string.IsNullOrWhiteSpace(r.Error.Message));
            }
            else
            {
                accepted++;
                Assert.InRange(r.Value.Text.Length, 1, QuestionParser.MaxQuestionChars);
            }
        }

        Assert.InRange(accepted, 1, 5999);   // some mutations keep a valid question, most do not
    }
}
