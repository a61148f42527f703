using System.Globalization;
using System.Text;

namespace LlavaUhd.Edge.Service.Tests.Infrastructure;

/// <summary>One sample line of the Prometheus text format: <c>name{label="value",…} value [timestamp]</c>.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string? Label(string name) => Labels.TryGetValue(name, out string? v) ? v : null;
}

/// <summary>
/// A small parser of the Prometheus text exposition format (version 0.0.4): <c># TYPE</c> and <c># HELP</c> lines and
/// samples with escaped label values. Strict: a line it cannot read throws <see cref="FormatException"/> naming the
/// line, so a malformed <c>/metrics</c> fails the test that reads it.
/// </summary>
public sealed class PrometheusText
{
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly List<PrometheusSample> _samples = [];

    /// <summary>Family name → type (counter, gauge, histogram, summary, untyped).</summary>
    public IReadOnlyDictionary<string, string> Types => _types;

    public IReadOnlyList<PrometheusSample> Samples => _samples;

    public static PrometheusText Parse(string text)
    {
        var result = new PrometheusText();
        int number = 0;
        foreach (string raw in text.Split('\n'))
        {
            number++;
            string line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                string[] parts = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 4 && parts[1] == "TYPE")
                {
                    if (parts[3] is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                    {
                        throw new FormatException($"line {number}: unknown type '{parts[3]}': {line}");
                    }

                    result._types[parts[2]] = parts[3];
                }

                continue;
            }

            result._samples.Add(ParseSample(line, number));
        }

        return result;
    }

    /// <summary>The samples of <paramref name="name"/> (exactly that sample name, e.g. <c>x_bucket</c>) whose labels include <paramref name="labels"/>.</summary>
    public IEnumerable<PrometheusSample> Find(string name, params (string Name, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Label(l.Name) == l.Value));

    /// <summary>The single sample of <paramref name="name"/> with <paramref name="labels"/>; fails when there is none or several.</summary>
    public double Value(string name, params (string Name, string Value)[] labels)
    {
        PrometheusSample[] found = [.. Find(name, labels)];
        return found.Length == 1
            ? found[0].Value
            : throw new InvalidOperationException($"{found.Length} samples of {name} with {string.Join(",", labels.Select(l => $"{l.Name}={l.Value}"))}");
    }

    private static PrometheusSample ParseSample(string line, int number)
    {
        int i = 0;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or ':'))
        {
            i++;
        }

        if (i == 0 || char.IsAsciiDigit(line[0]))
        {
            throw new FormatException($"line {number}: no metric name: {line}");
        }

        string name = line[..i];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i >= line.Length)
                {
                    throw new FormatException($"line {number}: unterminated labels: {line}");
                }

                if (line[i] == '}')
                {
                    i++;
                    break;
                }

                int start = i;
                while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_'))
                {
                    i++;
                }

                string label = line[start..i];
                if (label.Length == 0 || i + 1 >= line.Length || line[i] != '=' || line[i + 1] != '"')
                {
                    throw new FormatException($"line {number}: bad label at column {i + 1}: {line}");
                }

                i += 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new FormatException($"line {number}: unterminated label value: {line}");
                    }

                    char c = line[i++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\' && i < line.Length)
                    {
                        char e = line[i++];
                        value.Append(e switch { 'n' => '\n', '\\' => '\\', '"' => '"', _ => throw new FormatException($"line {number}: bad escape \\{e}: {line}") });
                    }
                    else
                    {
                        value.Append(c);
                    }
                }

                if (!labels.TryAdd(label, value.ToString()))
                {
                    throw new FormatException($"line {number}: label {label} twice: {line}");
                }

                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
            }
        }

        string[] rest = line[i..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length is < 1 or > 2)
        {
            throw new FormatException($"line {number}: expected a value (and an optional timestamp): {line}");
        }

        double v = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.TryParse(rest[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
                ? d
                : throw new FormatException($"line {number}: '{rest[0]}' is not a number: {line}"),
        };
        return new PrometheusSample(name, labels, v);
    }
}
