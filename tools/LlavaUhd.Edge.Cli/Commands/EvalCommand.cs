using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Providers;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// <c>eval DATASET.jsonl [--model DIR] [--variant V] [--profile P] [--json]</c>: answers every line of a dataset
/// (<c>sample --dataset</c>'s format; a line with a <c>roi</c> is answered on that region) and reports accuracy per
/// type with the mean visual tokens and the median latencies. Answers match when equal case-insensitively after
/// trimming whitespace and final punctuation.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var runtime = new InferenceArguments();
        var dataset = new Argument<string>("DATASET") { Description = "A dataset.jsonl: {\"image\",\"question\",\"answer\",\"type\"[,\"roi\":[x,y,w,h]]} per line, image paths relative to the file." };
        var profile = new Option<string>("--profile") { Description = "fast, balanced, detail, ocr or native.", DefaultValueFactory = _ => "detail" };
        var limit = new Option<int>("--limit") { Description = "Answer only the first N lines (0 = all).", DefaultValueFactory = _ => 0 };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Cap on generated tokens per answer.", DefaultValueFactory = _ => 12 };
        var prune = new Option<double>("--prune") { Description = "Entropy pruning threshold 0..1 (0 = off).", DefaultValueFactory = _ => 0 };
        var overlap = new Option<double>("--overlap") { Description = "Mitigation: slice overlap as a fraction of a slice (default 0, the reference).", DefaultValueFactory = _ => 0 };
        var pad = new Option<bool>("--pad") { Description = "Mitigation: keep the aspect ratio and pad instead of stretching." };
        var packet = new Option<string?>("--packet") { Description = "Send the visual tokens through a token packet of this dtype (fp32, fp16, int8) before answering, as split inference does." };
        var errors = new Option<string?>("--errors") { Description = "Write every wrong answer to this JSONL file." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: accuracy, by_type, n, visual_tokens_mean, latency_ms_p50, encode_ms_p50, ttft_ms_p50." };
        var typed = new Option<bool>("--typed") { Description = "Typed answers: count as an integer 0-6, presence as yes_no, color and position as a choice (code stays free text)." };
        var command = new Command("eval", "Answer every question of a dataset and report accuracy per type, visual tokens and latency.");
        command.Arguments.Add(dataset);
        runtime.AddTo(command);
        command.Options.Add(profile);
        command.Options.Add(limit);
        command.Options.Add(maxNew);
        command.Options.Add(prune);
        command.Options.Add(overlap);
        command.Options.Add(pad);
        command.Options.Add(packet);
        command.Options.Add(errors);
        command.Options.Add(json);
        command.Options.Add(typed);
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                CompressionProfile p = ProfileArgument.Parse(result.GetValue(profile));

                List<EvalLine> lines = Read(result.GetValue(dataset)!, result.GetValue(limit));
                InferenceOptions options = runtime.Bind(result);
                options.PruneEntropyThreshold = result.GetValue(prune);
                options.SliceOverlap = result.GetValue(overlap);
                options.PreserveAspect = result.GetValue(pad);
                TokenDType? dtype = null;
                if (result.GetValue(packet) is { } name)
                {
                    dtype = TokenQuantizer.TryParse(name, out TokenDType d) ? d : throw new CliException($"--packet '{name}' is not fp32, fp16 or int8");
                }

                bool asJson = result.GetValue(json);
                EvalReport report = await Task.Run(
                    () => Run(options, lines, p, result.GetValue(maxNew), result.GetValue(errors), asJson ? null : Console.Error, dtype, result.GetValue(typed), cancellationToken),
                    cancellationToken);
                Console.WriteLine(asJson ? report.ToJson() : report.ToTable());
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is CliException or ModelPackageException or ProviderUnavailableException or ArgumentException or ImageFormatException or SlicingException or PromptException or IOException or JsonException or TokenPacketException)
            {
                Console.Error.WriteLine($"eval: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    /// <summary>One dataset line.</summary>
    public sealed record EvalLine(int Number, string Image, string Question, string Answer, string Type, PixelRect? Roi);

    /// <summary>Answers each line (one encoding per image and region, shared by its questions) and scores it.</summary>
    public static EvalReport Run(InferenceOptions options, IReadOnlyList<EvalLine> lines, CompressionProfile profile, int maxNewTokens, string? errorsFile, TextWriter? progress, TokenDType? packet = null, bool typed = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lines);
        using VlmPipeline pipeline = VlmPipeline.Open(options);
        var report = new EvalReport(pipeline.ModelId, profile);
        using StreamWriter? wrong = errorsFile is null ? null : new StreamWriter(errorsFile, append: false);
        Mat? mat = null;
        string? matPath = null;
        (string Image, PixelRect Rect)? encodedKey = null;
        VisualTokens? encoded = null;
        StageTimings encodeTimings = new();
        try
        {
            foreach (EvalLine line in lines)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (matPath != line.Image)
                {
                    mat?.Dispose();
                    mat = ImageFiles.ReadBgr(line.Image);
                    matPath = line.Image;
                }

                ImageView frame = PreprocessCommand.ViewOf(mat!);
                PixelRect rect = line.Roi ?? PixelRect.FromSize(frame.Size);
                if (rect.X < 0 || rect.Y < 0 || rect.Width <= 0 || rect.Height <= 0 || rect.X + rect.Width > frame.Width || rect.Y + rect.Height > frame.Height)
                {
                    // Clip a region that reaches past the frame (a parcel at the edge), as a camera crop would.
                    int x0 = Math.Clamp(rect.X, 0, frame.Width - 1), y0 = Math.Clamp(rect.Y, 0, frame.Height - 1);
                    int x1 = Math.Clamp(rect.X + rect.Width, x0 + 1, frame.Width), y1 = Math.Clamp(rect.Y + rect.Height, y0 + 1, frame.Height);
                    rect = new PixelRect(x0, y0, x1 - x0, y1 - y0);
                }

                bool fresh = encodedKey != (line.Image, rect);
                if (fresh)
                {
                    encoded = pipeline.Encode(new EncodeRequest(frame.Crop(rect)) { Profile = profile, Pruning = options.Pruning, RoiInFrame = rect, Camera = "eval" }, cancellationToken);
                    encodeTimings = encoded.Timings;
                    if (packet is TokenDType dtype)
                    {
                        // Through the wire format and back, as a decoder device receives them.
                        byte[] bytes = TokenPacketCodec.Encode(encoded.ToPacket(), dtype, brotli: false);
                        encoded = VisualTokens.FromPacket(TokenPacketCodec.Decode(bytes), pipeline.Encoder);
                    }

                    encodedKey = (line.Image, rect);
                }

                var sampling = new SamplingOptions { MaxNewTokens = maxNewTokens };
                var request = new GenerationRequest(line.Question) { Sampling = sampling, AnswerType = typed ? TypeOf(line.Type) : null };
                VlmAnswer answer = pipeline.Answer(encoded, request, null, cancellationToken);
                StageTimings t = answer.Timings;
                double encodeMs = encodeTimings.PreprocessMs + encodeTimings.EncodeMs + encodeTimings.CompressMs;
                bool correct = Matches(answer.Text, line.Answer);
                report.Add(line.Type, correct, answer.Tokens.VisualKept, encodeMs, encodeMs + t.PrefillMs, encodeMs + t.PrefillMs + t.DecodeMs, fresh);
                if (!correct)
                {
                    wrong?.WriteLine(JsonSerializer.Serialize(new { line = line.Number, type = line.Type, question = line.Question, expected = line.Answer, answer = answer.Text }));
                }

                if (progress is not null && report.N % 50 == 0)
                {
                    progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{report.N}/{lines.Count}] accuracy so far {report.Accuracy:P1}"));
                }
            }
        }
        finally
        {
            mat?.Dispose();
        }

        return report;
    }

    /// <summary>The answer type of a question type of the parcel scenes (docs/scenes.md); null: free text.</summary>
    public static AnswerType? TypeOf(string questionType) => questionType switch
    {
        "count" => s_count,
        "presence" => AnswerType.YesNo,
        "color" => s_color,
        "position" => s_position,
        _ => null,
    };

    private static readonly AnswerType s_count = AnswerType.Number(0, 6, integer: true);
    private static readonly AnswerType s_color = AnswerType.Choice(ParcelScenes.Colors.Select(c => c.Name));
    private static readonly AnswerType s_position = AnswerType.Choice(["left", "middle", "right"]);

    /// <summary>Case-insensitive equality after trimming whitespace and final punctuation.</summary>
    public static bool Matches(string answer, string expected) =>
        string.Equals(Normalize(answer), Normalize(expected), StringComparison.OrdinalIgnoreCase);

    public static List<EvalLine> Read(string file, int limit)
    {
        if (!File.Exists(file))
        {
            throw new CliException($"dataset '{file}' does not exist");
        }

        string root = Path.GetDirectoryName(Path.GetFullPath(file))!;
        var lines = new List<EvalLine>();
        int number = 0;
        foreach (string text in File.ReadLines(file))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            try
            {
                using JsonDocument doc = JsonDocument.Parse(text);
                JsonElement e = doc.RootElement;
                string Required(string name) => e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String
                    ? v.GetString()!
                    : throw new CliException($"{file}:{number}: '{name}' must be a string");
                PixelRect? roi = null;
                if (e.TryGetProperty("roi", out JsonElement r) && r.ValueKind == JsonValueKind.Array)
                {
                    int[] v = [.. r.EnumerateArray().Select(x => x.GetInt32())];
                    roi = v.Length == 4 && v[2] > 0 && v[3] > 0 ? new PixelRect(v[0], v[1], v[2], v[3]) : throw new CliException($"{file}:{number}: 'roi' must be [x, y, w, h] with w, h > 0");
                }

                lines.Add(new EvalLine(number, Path.Combine(root, Required("image")), Required("question"), Required("answer"), e.TryGetProperty("type", out JsonElement t) ? t.GetString() ?? "other" : "other", roi));
            }
            catch (JsonException ex)
            {
                throw new CliException($"{file}:{number}: not JSON ({ex.Message})");
            }

            if (limit > 0 && lines.Count == limit)
            {
                break;
            }
        }

        return lines.Count > 0 ? lines : throw new CliException($"dataset '{file}' has no lines");
    }

    private static string Normalize(string s) => s.Trim().TrimEnd('.', '!', '?', ',', ';', ':').Trim();
}
