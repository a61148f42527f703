using System.Globalization;
using System.Text;

namespace LlavaUhd.Edge.Core.Diagnostics;

/// <summary>
/// Text from outside (questions, model output, topics, client ids) made safe for a log line: quoted, with quotes,
/// backslashes and every control or line-separator character escaped, and cut to a length, so no input can forge a
/// log line, break a terminal or flood the log.
/// </summary>
public static class LogText
{
    /// <summary>The most characters of one text a log line carries; the rest is counted.</summary>
    public const int MaxChars = 300;

    /// <summary><paramref name="text"/> in double quotes, escaped JSON-style (\n, \t, \", \\, \u001b …), cut at <see cref="MaxChars"/>.</summary>
    public static string Quote(string? text)
    {
        if (text is null)
        {
            return "null";
        }

        var sb = new StringBuilder(Math.Min(text.Length, MaxChars) + 8);
        sb.Append('"');
        int n = Math.Min(text.Length, MaxChars);
        for (int i = 0; i < n; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e'))
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
        if (text.Length > n)
        {
            sb.Append(CultureInfo.InvariantCulture, $"…(+{text.Length - n} chars)");
        }

        return sb.ToString();
    }
}
