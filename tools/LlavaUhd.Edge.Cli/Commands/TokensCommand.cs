using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Providers;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// <c>tokens encode</c> writes the compressed visual tokens of an image as a packet file (split inference: encode on
/// the sensor, decode elsewhere); <c>tokens inspect</c> prints a packet's header and statistics, or a specific error.
/// </summary>
internal static class TokensCommand
{
    public static Command Create()
    {
        var tokens = new Command("tokens", "Visual-token packets for split inference: encode an image, inspect a packet.");
        tokens.Subcommands.Add(CreateEncode());
        tokens.Subcommands.Add(CreateInspect());
        return tokens;
    }

    private static Command CreateEncode()
    {
        var runtime = new InferenceArguments();
        var image = new Argument<string>("IMAGE") { Description = "Image file." };
        var dtype = new Option<string>("--dtype") { Description = "fp32, fp16 or int8 (per-token symmetric).", DefaultValueFactory = _ => "fp16" };
        var brotli = new Option<bool>("--brotli") { Description = "Compress the payload with Brotli." };
        var roi = new Option<string?>("--roi") { Description = "Region of interest x,y,w,h in image pixels." };
        var profile = new Option<string>("--profile") { DefaultValueFactory = _ => "detail" };
        var camera = new Option<string>("--camera") { DefaultValueFactory = _ => "cli" };
        var output = new Option<string>("--out") { Description = "Packet file to write.", Required = true };
        var command = new Command("encode", "Encode an image (or ROI) and write its compressed visual tokens as a packet file.");
        command.Arguments.Add(image);
        runtime.AddTo(command);
        command.Options.Add(dtype);
        command.Options.Add(brotli);
        command.Options.Add(roi);
        command.Options.Add(profile);
        command.Options.Add(camera);
        command.Options.Add(output);
        command.SetAction(result =>
        {
            try
            {
                if (!TokenQuantizer.TryParse(result.GetValue(dtype), out TokenDType d))
                {
                    throw new CliException($"--dtype '{result.GetValue(dtype)}' is not fp32, fp16 or int8");
                }

                CompressionProfile p = ProfileArgument.Parse(result.GetValue(profile));

                InferenceOptions options = runtime.Bind(result);
                using VlmPipeline pipeline = VlmPipeline.Open(options);
                using Mat mat = ImageFiles.ReadBgr(result.GetValue(image)!);
                ImageView frame = PreprocessCommand.ViewOf(mat);
                PixelRect rect = PreprocessCommand.ParseRoi(result.GetValue(roi)) ?? PixelRect.FromSize(frame.Size);
                VisualTokens visual = pipeline.Encode(new EncodeRequest(frame.Crop(rect)) { Profile = p, RoiInFrame = rect, Camera = result.GetValue(camera)! });
                byte[] packet = TokenPacketCodec.Encode(visual.ToPacket(), d, result.GetValue(brotli));
                File.WriteAllBytes(result.GetValue(output)!, packet);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {result.GetValue(output)}: {packet.Length} bytes, {visual.Kept} tokens × {visual.Width} ({d.Name()}{(result.GetValue(brotli) ? " + brotli" : "")}), {visual.Plan.Views.Length} views, encoder {visual.Encoder.ModelId} {visual.Encoder.HashHex[..12]}…"));
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is CliException or ModelPackageException or ProviderUnavailableException or ArgumentException or ImageFormatException or SlicingException or TokenPacketException or IOException)
            {
                Console.Error.WriteLine($"tokens encode: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    private static Command CreateInspect()
    {
        var file = new Argument<string>("FILE") { Description = "Packet file." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("inspect", "Print a packet's header and statistics, or why it is invalid (exit code 1).");
        command.Arguments.Add(file);
        command.Options.Add(json);
        command.SetAction(result =>
        {
            string path = result.GetValue(file)!;
            bool asJson = result.GetValue(json);
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"tokens inspect: '{path}' does not exist");
                return ExitCodes.Usage;
            }

            byte[] bytes = File.ReadAllBytes(path);
            try
            {
                TokenPacket packet = TokenPacketCodec.Decode(bytes);
                Console.WriteLine(asJson ? InspectJson(packet, bytes.Length) : InspectText(packet, bytes.Length));
                return ExitCodes.Ok;
            }
            catch (TokenPacketException ex)
            {
                if (asJson)
                {
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = ex.Error.ToString(), ["message"] = ex.Message }));
                }
                else
                {
                    Console.Error.WriteLine($"tokens inspect: {path}: {ex.Message}");
                }

                return ExitCodes.Failed;
            }
        });
        return command;
    }

    private static (float Min, float Max, double Mean, double Std) Stats(float[] values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        double sum = 0, sq = 0;
        foreach (float v in values)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            sum += v;
            sq += (double)v * v;
        }

        double mean = sum / Math.Max(1, values.Length);
        return (min, max, mean, Math.Sqrt(Math.Max(0, (sq / Math.Max(1, values.Length)) - (mean * mean))));
    }

    public static string InspectJson(TokenPacket p, int bytes)
    {
        ArgumentNullException.ThrowIfNull(p);
        (float min, float max, double mean, double std) = Stats(p.Features);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("version", TokenPacketCodec.Version);
            w.WriteNumber("bytes", bytes);
            w.WriteString("model", p.Encoder.ModelId);
            w.WriteString("encoder_hash", p.Encoder.HashHex);
            w.WriteString("scheme", p.Slicing.Scheme.ToName());
            w.WriteStartArray("original");
            w.WriteNumberValue(p.Original.Width);
            w.WriteNumberValue(p.Original.Height);
            w.WriteEndArray();
            w.WriteNumber("views", p.Views.Length);
            w.WriteStartArray("tokens_per_view");
            foreach (PacketView v in p.Views)
            {
                w.WriteNumberValue(v.Tokens);
            }

            w.WriteEndArray();
            w.WriteNumber("tokens", p.TokenCount);
            w.WriteNumber("width", p.Width);
            w.WriteString("dtype", p.WireDType.Name());
            w.WriteBoolean("brotli", p.WireBrotli);
            w.WriteString("camera", p.Source.Camera);
            w.WriteStartArray("roi");
            w.WriteNumberValue(p.Source.Roi.X);
            w.WriteNumberValue(p.Source.Roi.Y);
            w.WriteNumberValue(p.Source.Roi.Width);
            w.WriteNumberValue(p.Source.Roi.Height);
            w.WriteEndArray();
            w.WriteString("frame_time", p.Source.FrameTime.ToString("O", CultureInfo.InvariantCulture));
            w.WriteNumber("frame_sequence", p.Source.FrameSequence);
            w.WriteStartObject("stats");
            w.WriteNumber("min", min);
            w.WriteNumber("max", max);
            w.WriteNumber("mean", Math.Round(mean, 6));
            w.WriteNumber("std", Math.Round(std, 6));
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string InspectText(TokenPacket p, int bytes)
    {
        (float min, float max, double mean, double std) = Stats(p.Features);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"token packet v{TokenPacketCodec.Version}, {bytes} bytes\n" +
            $"  encoder   {p.Encoder.ModelId} ({p.Encoder.HashHex})\n" +
            $"  plan      {p.Slicing.Scheme.ToName()} {p.Original.Width}x{p.Original.Height}: {p.Views.Length} views, {p.TokenCount} tokens ({string.Join(' ', p.Views.Select(v => v.Tokens))})\n" +
            $"  tensor    {p.TokenCount} x {p.Width} {p.WireDType.Name()}{(p.WireBrotli ? " + brotli" : "")}\n" +
            $"  source    camera '{p.Source.Camera}', roi {p.Source.Roi}, frame {p.Source.FrameSequence} at {p.Source.FrameTime:O}\n" +
            $"  values    min {min:G4}, max {max:G4}, mean {mean:G4}, std {std:G4}");
    }
}
