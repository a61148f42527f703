using System.Globalization;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>Accuracy per type, visual tokens and latencies of an <c>eval</c> run.</summary>
internal sealed class EvalReport(string model, CompressionProfile profile)
{
    private readonly SortedDictionary<string, (int Right, int Total)> _byType = new(StringComparer.Ordinal);
    private readonly List<double> _latency = [];
    private readonly List<double> _encode = [];
    private readonly List<double> _ttft = [];
    private long _visual;
    private int _right;

    public int N { get; private set; }

    public double Accuracy => N == 0 ? 0 : (double)_right / N;

    public void Add(string type, bool correct, int visualTokens, double encodeMs, double ttftMs, double latencyMs, bool freshEncode)
    {
        N++;
        _right += correct ? 1 : 0;
        (int r, int t) = _byType.GetValueOrDefault(type);
        _byType[type] = (r + (correct ? 1 : 0), t + 1);
        _visual += visualTokens;
        _latency.Add(latencyMs);
        _ttft.Add(ttftMs);
        if (freshEncode)
        {
            _encode.Add(encodeMs);
        }
    }

    public string ToJson()
    {
        var o = new System.Text.Json.Nodes.JsonObject
        {
            ["accuracy"] = Math.Round(Accuracy, 4),
            ["by_type"] = new System.Text.Json.Nodes.JsonObject(_byType.Select(kv => KeyValuePair.Create(kv.Key, (System.Text.Json.Nodes.JsonNode?)Math.Round((double)kv.Value.Right / kv.Value.Total, 4)))),
            ["n"] = N,
            ["visual_tokens_mean"] = N == 0 ? 0 : Math.Round((double)_visual / N, 1),
            ["latency_ms_p50"] = Math.Round(SampleStatistics.Median(_latency), 1),
            ["encode_ms_p50"] = Math.Round(SampleStatistics.Median(_encode), 1),
            ["ttft_ms_p50"] = Math.Round(SampleStatistics.Median(_ttft), 1),
            ["model"] = model,
            ["profile"] = profile.ToName(),
        };
        return o.ToJsonString();
    }

    public string ToTable()
    {
        var s = new System.Text.StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"{model}, profile {profile.ToName()}: {N} questions");
        s.AppendLine("type        n      accuracy");
        foreach ((string type, (int right, int total)) in _byType)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"{type,-10} {total,5}   {(double)right / total,9:P1}");
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"{"all",-10} {N,5}   {Accuracy,9:P1}");
        s.Append(CultureInfo.InvariantCulture, $"visual tokens {(N == 0 ? 0 : (double)_visual / N):F0} per question; p50 latency {SampleStatistics.Median(_latency):F0} ms (encode {SampleStatistics.Median(_encode):F0} ms, time to first token {SampleStatistics.Median(_ttft):F0} ms)");
        return s.ToString();
    }
}
