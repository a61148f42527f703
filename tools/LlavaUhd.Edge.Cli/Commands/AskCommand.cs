using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlavaUhd.Edge.Core.Compression;
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
/// <c>ask IMAGE "question" --model DIR …</c> (or <c>ask --tokens FILE "question" --model DIR</c>): answers a question about an
/// image, a region of it, or a token packet, streaming the answer, then the timings.
/// </summary>
internal static class AskCommand
{
    public static Command Create()
    {
        var runtime = new InferenceArguments();
        var first = new Argument<string>("IMAGE") { Description = "Image file, or the question when --tokens is given." };
        var second = new Argument<string?>("QUESTION") { Description = "The question.", Arity = ArgumentArity.ZeroOrOne };
        var tokens = new Option<string?>("--tokens") { Description = "Answer from a token packet (made by 'tokens encode') instead of an image." };
        var roi = new Option<string?>("--roi") { Description = "Region of interest x,y,w,h in image pixels." };
        var profile = new Option<string>("--profile") { Description = "fast, balanced, detail, ocr or native.", DefaultValueFactory = _ => "detail" };
        var maxNew = new Option<int?>("--max-new-tokens") { Description = "Cap on generated tokens (default: the package's)." };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy (default).", DefaultValueFactory = _ => 0f };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => 0 };
        var topP = new Option<float>("--top-p") { DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 0x5EED };
        var prune = new Option<double>("--prune") { Description = "Entropy pruning threshold 0..1 (0 = off).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON result object instead of streaming text." };
        var typed = new AnswerTypeArguments();
        var command = new Command("ask", "Answer a question about an image (or a region, or a token packet) with a model package.");
        command.Arguments.Add(first);
        command.Arguments.Add(second);
        runtime.AddTo(command);
        command.Options.Add(tokens);
        command.Options.Add(roi);
        command.Options.Add(profile);
        command.Options.Add(maxNew);
        command.Options.Add(temperature);
        command.Options.Add(topK);
        command.Options.Add(topP);
        command.Options.Add(seed);
        command.Options.Add(prune);
        command.Options.Add(json);
        typed.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                string? packetFile = result.GetValue(tokens);
                string? image = packetFile is null ? result.GetValue(first) : null;
                string? question = packetFile is null ? result.GetValue(second) : result.GetValue(second) ?? result.GetValue(first);
                if (string.IsNullOrWhiteSpace(question))
                {
                    throw new CliException("give the question after the image (or after --tokens FILE)");
                }

                CompressionProfile p = ProfileArgument.Parse(result.GetValue(profile));

                InferenceOptions options = runtime.Bind(result);
                options.PruneEntropyThreshold = result.GetValue(prune);
                var sampling = new SamplingOptions
                {
                    Temperature = result.GetValue(temperature),
                    TopK = result.GetValue(topK),
                    TopP = result.GetValue(topP),
                    Seed = result.GetValue(seed),
                };
                var request = new AskRequest(image, packetFile, question, PreprocessCommand.ParseRoi(result.GetValue(roi)), p, sampling, result.GetValue(maxNew)) { AnswerType = typed.Bind(result) };
                bool asJson = result.GetValue(json);
                AskResult r = await Task.Run(() => Run(options, request, asJson ? null : piece => Console.Out.Write(piece), cancellationToken), cancellationToken);
                if (asJson)
                {
                    Console.WriteLine(ToJson(r));
                }
                else
                {
                    Console.WriteLine();
                    if (r.Answer.Value is { } value)
                    {
                        Console.WriteLine($"[value ({request.AnswerType!.Name}): {value.GetRawText()}]");
                    }

                    Console.WriteLine(Summary(r));
                }

                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is CliException or AnswerTypeException or ModelPackageException or ProviderUnavailableException or ArgumentException or ImageFormatException or SlicingException or TokenPacketException or PromptException or IOException)
            {
                Console.Error.WriteLine($"ask: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    public sealed record AskRequest(string? Image, string? Packet, string Question, PixelRect? Roi, CompressionProfile Profile, SamplingOptions Sampling, int? MaxNewTokens)
    {
        /// <summary>Null: a free-text answer.</summary>
        public AnswerType? AnswerType { get; init; }
    }

    public sealed record AskResult(VlmAnswer Answer, CompressionProfile Profile, SlicePlan? Plan);

    /// <summary>Opens the model, encodes the image (or reads the packet) and answers; pieces of text go to <paramref name="onText"/>.</summary>
    public static AskResult Run(InferenceOptions options, AskRequest request, Action<string>? onText, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using VlmPipeline pipeline = VlmPipeline.Open(options);
        VisualTokens tokens;
        if (request.Packet is not null)
        {
            byte[] bytes = File.Exists(request.Packet) ? File.ReadAllBytes(request.Packet) : throw new CliException($"token packet '{request.Packet}' does not exist");
            tokens = VisualTokens.FromPacket(TokenPacketCodec.Decode(bytes), pipeline.Encoder);
        }
        else
        {
            using Mat mat = ImageFiles.ReadBgr(request.Image!);
            ImageView frame = PreprocessCommand.ViewOf(mat);
            PixelRect rect = request.Roi ?? PixelRect.FromSize(frame.Size);
            tokens = pipeline.Encode(new EncodeRequest(frame.Crop(rect)) { Profile = request.Profile, Pruning = options.Pruning, RoiInFrame = rect, Camera = "cli" }, cancellationToken);
        }

        SamplingOptions sampling = request.Sampling with { MaxNewTokens = request.MaxNewTokens ?? pipeline.Package.Manifest.Generation.MaxNewTokens };
        VlmAnswer answer = pipeline.Answer(tokens, new GenerationRequest(request.Question) { Sampling = sampling, AnswerType = request.AnswerType }, onText, cancellationToken);
        return new AskResult(answer, request.Profile, tokens.Plan);
    }

    public static string ToJson(AskResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            VlmAnswer a = r.Answer;
            w.WriteStartObject();
            w.WriteString("answer", a.Text);
            if (a.Value is { } value)
            {
                w.WritePropertyName("value");
                value.WriteTo(w);
            }

            w.WriteStartObject("tokens");
            w.WriteNumber("visual", a.Tokens.Visual);
            w.WriteNumber("visual_kept", a.Tokens.VisualKept);
            w.WriteNumber("prompt", a.Tokens.Prompt);
            w.WriteNumber("generated", a.Tokens.Generated);
            w.WriteEndObject();
            w.WriteStartObject("timings_ms");
            w.WriteNumber("preprocess", Math.Round(a.Timings.PreprocessMs, 3));
            w.WriteNumber("encode", Math.Round(a.Timings.EncodeMs, 3));
            w.WriteNumber("compress", Math.Round(a.Timings.CompressMs, 3));
            w.WriteNumber("prefill", Math.Round(a.Timings.PrefillMs, 3));
            w.WriteNumber("decode", Math.Round(a.Timings.DecodeMs, 3));
            w.WriteNumber("total", Math.Round(a.Timings.TotalMs, 3));
            w.WriteEndObject();
            w.WriteNumber("decode_tokens_per_s", Math.Round(a.Timings.DecodeTokensPerSecond, 2));
            w.WriteString("provider", a.Provider);
            w.WriteString("model", a.Model);
            w.WriteString("profile", r.Profile.ToName());
            w.WriteString("stop_reason", a.StopReason.ToName());
            w.WriteStartArray("token_ids");
            foreach (int id in a.TokenIds)
            {
                w.WriteNumberValue(id);
            }

            w.WriteEndArray();
            if (r.Plan is { } plan)
            {
                w.WriteNumber("views", plan.Views.Length);
            }

            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string Summary(AskResult r)
    {
        VlmAnswer a = r.Answer;
        StageTimings t = a.Timings;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"[{a.Model} on {a.Provider}, {r.Profile.ToName()}: {r.Plan?.Views.Length ?? 0} views, {a.Tokens.VisualKept}/{a.Tokens.Visual} visual tokens, prompt {a.Tokens.Prompt}, generated {a.Tokens.Generated} ({a.StopReason.ToName()})]\n" +
            $"[preprocess {t.PreprocessMs:F1} ms, encode {t.EncodeMs:F1} ms, compress {t.CompressMs:F1} ms, prefill {t.PrefillMs:F1} ms, decode {t.DecodeMs:F1} ms ({t.DecodeTokensPerSecond:F1} tok/s), total {t.TotalMs:F1} ms]");
    }
}
