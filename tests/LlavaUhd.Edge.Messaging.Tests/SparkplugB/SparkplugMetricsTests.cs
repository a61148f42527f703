using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Messaging.SparkplugB;
using LlavaUhd.Edge.Messaging.SparkplugB.Protobuf;
using static LlavaUhd.Edge.Messaging.Tests.SparkplugB.SparkplugTestData;
using Metric = LlavaUhd.Edge.Messaging.SparkplugB.Protobuf.Payload.Types.Metric;

namespace LlavaUhd.Edge.Messaging.Tests.SparkplugB;

public sealed class SparkplugMetricsTests
{
    [Fact]
    public void DataTypeOf_FollowsTheAnswerType()
    {
        Assert.Equal(DataType.Boolean, SparkplugMetrics.DataTypeOf(AnswerType.YesNo));
        Assert.Equal(DataType.Double, SparkplugMetrics.DataTypeOf(AnswerType.Number()));
        Assert.Equal(DataType.Int64, SparkplugMetrics.DataTypeOf(AnswerType.Number(integer: true)));
        Assert.Equal(DataType.String, SparkplugMetrics.DataTypeOf(AnswerType.Choice(["ok", "jam"])));
        Assert.Equal(DataType.String, SparkplugMetrics.DataTypeOf(AnswerType.Json([new JsonField("count", JsonFieldKind.Integer)])));
        Assert.Equal(DataType.String, SparkplugMetrics.DataTypeOf(null));
    }

    [Fact]
    public void Value_YesNo_IsBoolean()
    {
        Metric m = SparkplugMetrics.Value("v", DataType.Boolean, Answer("door", "yes_no", "true", "yes"));
        Assert.Equal(Metric.ValueOneofCase.BooleanValue, m.ValueCase);
        Assert.True(m.BooleanValue);
        Assert.Equal((uint)DataType.Boolean, m.Datatype);
        Assert.False(SparkplugMetrics.Value("v", DataType.Boolean, Answer("door", "yes_no", "false", "no")).BooleanValue);
    }

    [Fact]
    public void Value_Number_IsInt64OrDouble()
    {
        Metric i = SparkplugMetrics.Value("v", DataType.Int64, Answer("n", "number", "3"));
        Assert.Equal(Metric.ValueOneofCase.LongValue, i.ValueCase);
        Assert.Equal(3UL, i.LongValue);
        Metric negative = SparkplugMetrics.Value("v", DataType.Int64, Answer("n", "number", "-2"));
        Assert.Equal(-2L, unchecked((long)negative.LongValue));   // two's complement in long_value
        Metric d = SparkplugMetrics.Value("v", DataType.Double, Answer("n", "number", "3.25"));
        Assert.Equal(Metric.ValueOneofCase.DoubleValue, d.ValueCase);
        Assert.Equal(3.25, d.DoubleValue);
        Assert.True(SparkplugMetrics.Value("v", DataType.Int64, Answer("n", "number", "3.5")).IsNull);   // not whole: no Int64
    }

    [Fact]
    public void Value_ChoiceAndJson_AreStrings()
    {
        Metric c = SparkplugMetrics.Value("v", DataType.String, Answer("state", "choice", "\"jam\""));
        Assert.Equal("jam", c.StringValue);
        Metric j = SparkplugMetrics.Value("v", DataType.String, Answer("j", "json", """{"count":2,"open":true}"""));
        Assert.Equal("""{"count":2,"open":true}""", j.StringValue);
        Assert.Equal((uint)DataType.String, j.Datatype);
    }

    [Fact]
    public void Value_FreeText_IsTheAnswerText()
    {
        Metric t = SparkplugMetrics.Value("v", DataType.String, Answer("caption", null, null, "a red box"));
        Assert.Equal("a red box", t.StringValue);
        Assert.False(t.IsNull);
    }

    [Fact]
    public void Value_WithoutATypedValue_IsNullWithItsDatatype()
    {
        Metric m = SparkplugMetrics.Value("v", DataType.Boolean, Answer("door", "yes_no", null, "maybe"));
        Assert.True(m.IsNull);
        Assert.Equal(Metric.ValueOneofCase.None, m.ValueCase);
        Assert.Equal((uint)DataType.Boolean, m.Datatype);
        Assert.True(SparkplugMetrics.Value("v", DataType.Boolean, Answer("door", "yes_no", "\"yes\"")).IsNull);   // a string is no Boolean
    }

    [Fact]
    public void TokensPerSecond_IsCompletionTokensOverDecodeTime()
    {
        Assert.Equal(200, SparkplugMetrics.TokensPerSecondOf(Answer("x", null, null)));   // 8 tokens in 40 ms
    }
}
