using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Inference.Pipeline;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// <c>bench decode</c>: the whole pipeline on a generated frame in one process: encode time, time to first token,
/// decode tokens/s, the share of wall time outside ONNX Runtime runs, resident memory per phase (docs/memory.md) and
/// bytes allocated per generated token.
/// </summary>
internal static class BenchDecodeCommand
{
    public sealed record Result(double EncodeMs, double TtftMs, double DecodeTokensPerSecond, double OutsideOrtPct, double DecodeOutsideOrtPct, double PeakRssMb, long AllocBytesPerToken, int Views, int VisualTokens, int PromptTokens, string Provider)
    {
        /// <summary>Resident memory once the sessions are open (weights, prepacked copies, the runtime itself).</summary>
        public double LoadRssMb { get; init; }

        /// <summary>The high-water mark while the sessions were opened (parsing a model holds transient copies).</summary>
        public double LoadPeakMb { get; init; }

        /// <summary>The high-water mark during the first encode of the frame (the encoder's activations per call).</summary>
        public double EncodePeakMb { get; init; }

        /// <summary>The high-water mark during the first answer (prefill over the whole prompt, then the decode loop).</summary>
        public double AnswerPeakMb { get; init; }


        /// <summary>Prompt tokens per second of prefill (the prompt, image placeholders included, over the time to first token).</summary>
        public double PrefillTokensPerSecond => TtftMs > 0 ? PromptTokens / (TtftMs / 1000.0) : 0;
    }

    public static Command CreateDecode()
    {
        var runtime = new InferenceArguments();
        var size = new Option<string>("--size") { Description = "Frame size WxH (default 1920x1080).", DefaultValueFactory = _ => "1920x1080" };
        var newTokens = new Option<int>("--new-tokens") { Description = "Tokens to generate per run (default 32).", DefaultValueFactory = _ => 32 };
        var runs = new Option<int>("--runs") { Description = "Timed runs after one warm-up (default 3).", DefaultValueFactory = _ => 3 };
        var profile = new Option<string>("--profile") { DefaultValueFactory = _ => "detail" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("decode", "Time the whole pipeline: encode, time to first token, decode tokens/s, overhead outside ONNX Runtime, peak RSS, bytes allocated per token.");
        runtime.AddTo(command);
        command.Options.Add(size);
        command.Options.Add(newTokens);
        command.Options.Add(runs);
        command.Options.Add(profile);
        command.Options.Add(json);
        command.SetAction(result => ModelsCommand.Guard("bench decode", () =>
        {
            CompressionProfile p = ProfileArgument.Parse(result.GetValue(profile));

            int n = result.GetValue(newTokens);
            if (n < 4 || result.GetValue(runs) < 1)
            {
                throw new CliException("--new-tokens must be at least 4 and --runs at least 1");
            }

            Result r = Run(runtime.Bind(result), BenchCommand.ParseSize(result.GetValue(size)!), p, n, result.GetValue(runs));
            Console.WriteLine(result.GetValue(json)
                ? string.Create(CultureInfo.InvariantCulture, $"{{\"encode_ms\":{r.EncodeMs:F1},\"ttft_ms\":{r.TtftMs:F1},\"decode_tokens_per_s\":{r.DecodeTokensPerSecond:F1},\"outside_ort_pct\":{r.OutsideOrtPct:F2},\"peak_rss_mb\":{r.PeakRssMb:F0},\"load_rss_mb\":{r.LoadRssMb:F0},\"load_peak_mb\":{r.LoadPeakMb:F0},\"encode_peak_mb\":{r.EncodePeakMb:F0},\"answer_peak_mb\":{r.AnswerPeakMb:F0},\"alloc_bytes_per_token\":{r.AllocBytesPerToken},\"prefill_tokens_per_s\":{r.PrefillTokensPerSecond:F1},\"context_tokens\":{r.PromptTokens}}}")
                : string.Create(CultureInfo.InvariantCulture, $"{r.Views} views, {r.VisualTokens} visual tokens, prompt {r.PromptTokens} on {r.Provider}: encode {r.EncodeMs:F1} ms, TTFT {r.TtftMs:F1} ms, prefill {r.PrefillTokensPerSecond:F0} tok/s, decode {r.DecodeTokensPerSecond:F1} tok/s after {r.PromptTokens} context tokens, outside ORT {r.OutsideOrtPct:F2}% (decode loop {r.DecodeOutsideOrtPct:F2}%), peak RSS {r.PeakRssMb:F0} MB (after load {r.LoadRssMb:F0}, peak while loading {r.LoadPeakMb:F0}, encoding {r.EncodePeakMb:F0}, answering {r.AnswerPeakMb:F0}), {r.AllocBytesPerToken} B allocated per token"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Result Run(InferenceOptions options, Core.Slicing.PixelSize size, CompressionProfile profile, int newTokens, int runs)
    {
        using Mat mat = SampleCommand.Render(size.Width, size.Height, seed: 3);
        ImageView frame = PreprocessCommand.ViewOf(mat);
        using VlmPipeline pipeline = VlmPipeline.Open(options);
        var never = new SamplingOptions { MaxNewTokens = newTokens, StopTokenIds = [-1] };
        var request = new GenerationRequest("Describe the scene in detail.") { Sampling = never };

        // Per phase: the kernel's high-water mark (VmHWM), restarted before each phase where Linux allows it; the
        // process peak is the largest of them (or VmHWM itself when it cannot be restarted).
        ProcessMemory loaded = ProcessMemory.Read();
        bool phases = ProcessMemory.TryResetPeak();

        // Warm-up (first runs pay for session initialisation and JIT).
        VisualTokens warm = pipeline.Encode(new EncodeRequest(frame) { Profile = profile });
        long encodePeak = ProcessMemory.Read().PeakRssBytes;
        phases &= ProcessMemory.TryResetPeak();
        pipeline.Answer(warm, request);
        long answerPeak = ProcessMemory.Read().PeakRssBytes;

        var encode = new List<double>();
        var ttft = new List<double>();
        var tps = new List<double>();
        double wall = 0, ort = 0, decodeWall = 0, decodeOrt = 0;
        VlmAnswer? last = null;
        for (int i = 0; i < runs; i++)
        {
            TimeSpan ort0 = pipeline.OrtTime.Elapsed;
            var clock = Stopwatch.StartNew();
            VisualTokens tokens = pipeline.Encode(new EncodeRequest(frame) { Profile = profile });
            encode.Add(clock.Elapsed.TotalMilliseconds);
            TimeSpan ortBeforeAnswer = pipeline.OrtTime.Elapsed;
            double beforeAnswer = clock.Elapsed.TotalMilliseconds;
            last = pipeline.Answer(tokens, request);
            wall += clock.Elapsed.TotalMilliseconds;
            ort += (pipeline.OrtTime.Elapsed - ort0).TotalMilliseconds;
            ttft.Add(last.Timings.PrefillMs);
            tps.Add(last.Timings.DecodeTokensPerSecond);

            // The decode loop alone: everything after the first token.
            double answerOrt = (pipeline.OrtTime.Elapsed - ortBeforeAnswer).TotalMilliseconds;
            double answerWall = clock.Elapsed.TotalMilliseconds - beforeAnswer;
            double prefillShare = last.Timings.PrefillMs;
            decodeWall += last.Timings.DecodeMs;
            decodeOrt += Math.Max(0, answerOrt - Math.Min(prefillShare, answerWall));
        }

        // Marginal allocation per generated token: two lengths, the difference divided by the extra tokens.
        VisualTokens fixedTokens = pipeline.Encode(new EncodeRequest(frame) { Profile = profile });
        long Allocated(int tokens)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            pipeline.Answer(fixedTokens, request with { Sampling = never with { MaxNewTokens = tokens } });
            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        int half = newTokens / 2;
        Allocated(newTokens);
        long perToken = Math.Max(0, (Allocated(newTokens) - Allocated(half)) / (newTokens - half));
        long peak = Math.Max(ProcessMemory.Read().PeakRssBytes, phases ? Math.Max(loaded.PeakRssBytes, Math.Max(encodePeak, answerPeak)) : 0);
        return new Result(
            SampleStatistics.Median(encode),
            SampleStatistics.Median(ttft),
            SampleStatistics.Median(tps),
            wall > 0 ? 100.0 * (wall - ort) / wall : 0,
            decodeWall > 0 ? 100.0 * Math.Max(0, decodeWall - decodeOrt) / decodeWall : 0,
            ProcessMemory.Mb(peak),
            perToken,
            fixedTokens.Plan.Views.Length,
            last!.Tokens.Visual,
            last.Tokens.Prompt,
            last.Provider)
        {
            LoadRssMb = ProcessMemory.Mb(loaded.RssBytes),
            LoadPeakMb = ProcessMemory.Mb(loaded.PeakRssBytes),
            EncodePeakMb = ProcessMemory.Mb(phases ? encodePeak : 0),
            AnswerPeakMb = ProcessMemory.Mb(phases ? answerPeak : 0),
        };
    }
}
