using LlavaUhd.Edge.Core.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace LlavaUhd.Edge.Core.Tests;

/// <summary>Text from outside cannot forge or break a log line, and a flood of warnings writes a line per window with a count.</summary>
public sealed class LogTextTests
{
    [Fact]
    public void Quote_EscapesQuotesBackslashesAndControlCharacters()
    {
        Assert.Equal("\"plain\"", LogText.Quote("plain"));
        Assert.Equal("\"a\\\"b\\\\c\\nd\\r\\te\\u001b[31mred\\u0000\"", LogText.Quote("a\"b\\c\nd\r\te\u001b[31mred\0"));
        Assert.Equal("\"\\u2028 \\u202e\"", LogText.Quote("\u2028 \u202e"));
        Assert.Equal("null", LogText.Quote(null));
        Assert.DoesNotContain('\n', LogText.Quote("line\nforged: INFO ok"));
    }

    [Fact]
    public void Quote_CutsLongText_AndSaysHowMuchWasLeft()
    {
        string q = LogText.Quote(new string('x', LogText.MaxChars + 50));
        Assert.StartsWith("\"" + new string('x', LogText.MaxChars) + "\"", q, StringComparison.Ordinal);
        Assert.EndsWith("…(+50 chars)", q, StringComparison.Ordinal);
    }

    [Fact]
    public void Throttle_LetsOneLinePerWindowThrough_AndCountsTheRest()
    {
        var time = new FakeTimeProvider();
        var throttle = new LogThrottle(TimeSpan.FromSeconds(10), time);
        Assert.True(throttle.Allow("invalid_json", out int held));
        Assert.Equal(0, held);
        for (int i = 0; i < 5; i++)
        {
            Assert.False(throttle.Allow("invalid_json", out _));
        }

        Assert.True(throttle.Allow("unknown_camera", out held));   // another key has its own window
        Assert.Equal(0, held);
        time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(throttle.Allow("invalid_json", out _));
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(throttle.Allow("invalid_json", out held));
        Assert.Equal(6, held);
        Assert.False(throttle.Allow("invalid_json", out _));
    }
}
