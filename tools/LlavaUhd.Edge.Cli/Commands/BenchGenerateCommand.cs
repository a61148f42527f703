using System.CommandLine;
using System.Globalization;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Sessions;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// <c>bench generate</c>: the decoder alone, side by side. Each variant's sessions are opened once in one process;
/// then, round after round, each variant prefills the same context (embeddings of seeded random token ids) and
/// generates the same number of tokens, so machine noise falls on every variant alike. Reports per variant the median
/// prefill and decode tokens/s over the rounds, and each variant's decode ratio to the first (docs/cpu-decoder.md).
/// </summary>
internal static class BenchGenerateCommand
{
    public sealed record Result(string Variant, bool Fused, double PrefillTokensPerSecond, double DecodeTokensPerSecond, double DecodeMin, double DecodeMax, double RatioToFirst, long DecoderBytes);

    public static Command Create()
    {
        var runtime = new InferenceArguments();
        var variants = new Option<string>("--variants") { Description = "Comma-separated variants to compare, e.g. cpu-int8,cpu-q4 (the first is the ratios' base).", Required = true };
        var context = new Option<int>("--context") { Description = "Context tokens before the first generated one (default 876: a 1080p frame at detail with the SmolVLM-256M shape).", DefaultValueFactory = _ => 876 };
        var newTokens = new Option<int>("--new-tokens") { Description = "Tokens generated per round (default 64).", DefaultValueFactory = _ => 64 };
        var rounds = new Option<int>("--rounds") { Description = "Timed rounds per variant, alternating, after one warm-up round (default 5).", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per variant." };
        var bandwidth = new Option<bool>("--bandwidth") { Description = "Also measure this machine's read bandwidth (every core reading 512 MB) and give each variant's decode as a share of the bound it sets: bandwidth / bytes of decoder weights per token." };
        var command = new Command("generate", "Time the decoder alone after a context of N tokens, several variants alternating in one process: prefill and decode tokens/s side by side.");
        runtime.AddTo(command);
        command.Options.Add(variants);
        command.Options.Add(context);
        command.Options.Add(newTokens);
        command.Options.Add(rounds);
        command.Options.Add(json);
        command.Options.Add(bandwidth);
        command.SetAction(result => ModelsCommand.Guard("bench generate", () =>
        {
            string[] names = result.GetValue(variants)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            int ctx = result.GetValue(context);
            int n = result.GetValue(newTokens);
            int r = result.GetValue(rounds);
            if (names.Length == 0 || ctx < 1 || n < 2 || r < 1)
            {
                throw new CliException("--variants needs at least one variant, --context at least 1, --new-tokens at least 2 and --rounds at least 1");
            }

            IReadOnlyList<Result> rows = Run(runtime.Bind(result), names, ctx, n, r);
            double gbps = result.GetValue(bandwidth) ? ReadBandwidth.Measure() : 0;
            foreach (Result row in rows)
            {
                // tokens/s × bytes read per token ÷ bytes/s the cores can read
                double boundPct = gbps > 0 ? 100.0 * row.DecodeTokensPerSecond * row.DecoderBytes / (gbps * 1e9) : 0;
                string extraJson = gbps > 0 ? string.Create(CultureInfo.InvariantCulture, $",\"decoder_mb\":{row.DecoderBytes / 1e6:F1},\"read_gb_per_s\":{gbps:F1},\"bandwidth_bound_pct\":{boundPct:F1}") : string.Empty;
                string extraText = gbps > 0 ? string.Create(CultureInfo.InvariantCulture, $"   {boundPct:F0}% of the bound ({row.DecoderBytes / 1e6:F1} MB per token at {gbps:F1} GB/s)") : string.Empty;
                Console.WriteLine(result.GetValue(json)
                    ? string.Create(CultureInfo.InvariantCulture, $"{{\"variant\":\"{row.Variant}\",\"fused\":{(row.Fused ? "true" : "false")},\"context_tokens\":{ctx},\"new_tokens\":{n},\"rounds\":{r},\"prefill_tokens_per_s\":{row.PrefillTokensPerSecond:F1},\"decode_tokens_per_s\":{row.DecodeTokensPerSecond:F1},\"decode_min\":{row.DecodeMin:F1},\"decode_max\":{row.DecodeMax:F1},\"ratio_to_first\":{row.RatioToFirst:F3}{extraJson}}}")
                    : string.Create(CultureInfo.InvariantCulture, $"{row.Variant,-10} prefill {row.PrefillTokensPerSecond,6:F0} tok/s   decode {row.DecodeTokensPerSecond,6:F1} tok/s (min {row.DecodeMin:F1}, max {row.DecodeMax:F1}) after {ctx} context tokens   ×{row.RatioToFirst:F2}{extraText}"));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    public static IReadOnlyList<Result> Run(InferenceOptions options, IReadOnlyList<string> variants, int context, int newTokens, int rounds)
    {
        var factory = new OnnxSessionFactory(new OnnxSessionOptions { Providers = options.Providers }, NullLogger.Instance);
        var opened = new List<(string Variant, ModelSessions Sessions, TextGenerator Generator, long DecoderBytes)>();
        try
        {
            foreach (string variant in variants)
            {
                ModelPackage package = ModelPackage.Load(options.Model, variant, options.VerifyHashes);
                ModelSessions sessions = package.OpenSessions(factory);
                opened.Add((variant, sessions, new TextGenerator(sessions, null, InferenceOptions.PrefillTokensPerCall(options.MaxPrefillTokensPerCall, factory.Provider)), new FileInfo(package.SessionPath(SessionNames.Decoder)).Length));
            }

            // One context for all: the embeddings of seeded random ids (real rows of each variant's table).
            var random = new Random(1234);
            long[] ids = new long[context];
            for (int i = 0; i < ids.Length; i++)
            {
                ids[i] = random.Next(opened[0].Generator.VocabularySize);
            }

            var sampling = new SamplingOptions { MaxNewTokens = newTokens, StopTokenIds = [-1] };
            var prefill = opened.Select(_ => new List<double>()).ToList();
            var decode = opened.Select(_ => new List<double>()).ToList();
            var embeds = opened.Select(o => new float[context * o.Generator.Hidden]).ToList();
            for (int v = 0; v < opened.Count; v++)
            {
                opened[v].Generator.Embed(ids, embeds[v]);
            }

            for (int round = 0; round <= rounds; round++)
            {
                for (int v = 0; v < opened.Count; v++)
                {
                    TextGenerator g = opened[v].Generator;
                    GenerationResult result = g.Generate(embeds[v], context, new TokenSampler(g.VocabularySize, sampling), sampling);
                    if (round == 0)
                    {
                        continue; // warm-up: session initialisation, first-run allocations
                    }

                    prefill[v].Add(context / (result.PrefillMs / 1000.0));
                    decode[v].Add((result.Tokens.Count - 1) / (result.DecodeMs / 1000.0));
                }
            }

            double first = SampleStatistics.Median(decode[0]);
            return [.. opened.Select((o, v) => new Result(
                o.Variant,
                o.Generator.IsFused,
                SampleStatistics.Median(prefill[v]),
                SampleStatistics.Median(decode[v]),
                decode[v].Min(),
                decode[v].Max(),
                first > 0 ? SampleStatistics.Median(decode[v]) / first : 0,
                o.DecoderBytes))];
        }
        finally
        {
            foreach ((_, ModelSessions sessions, TextGenerator generator, _) in opened)
            {
                generator.Dispose();
                sessions.Dispose();
            }
        }
    }
}
