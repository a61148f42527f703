using System.CommandLine;
using System.Text.Json;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Pipeline;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// <c>prompt IMAGE "question" --model DIR [--profile P] [--roi x,y,w,h] --json</c>: the token ids the decoder will
/// see for the image and the question (image placeholders included), the grid and the encoder input's shape, built
/// by the same <see cref="PromptBuilder"/> the pipeline uses. No model is run.
/// </summary>
internal static class PromptCommand
{
    public static Command Create()
    {
        var image = new Argument<string?>("IMAGE") { Description = "Image file.", Arity = ArgumentArity.ZeroOrOne };
        var question = new Argument<string?>("QUESTION") { Description = "The question.", Arity = ArgumentArity.ZeroOrOne };
        var dataset = new Option<string?>("--dataset") { Description = "Instead of IMAGE and QUESTION: every line of a dataset.jsonl (sample --dataset), one JSON object per line with the answer's ids too (for trainers)." };
        var model = new Option<string>("--model") { Description = "Model package folder (public layout + model.json) or a demo model by name: demo:smolvlm (the default), demo:llava-uhd-v1, demo:llava-uhd-v3.", DefaultValueFactory = _ => DemoModels.Default };
        var profile = new Option<string>("--profile") { Description = "fast, balanced, detail, ocr or native.", DefaultValueFactory = _ => "detail" };
        var roi = new Option<string?>("--roi") { Description = "Region of interest x,y,w,h in image pixels." };
        var json = new Option<bool>("--json") { Description = "Print one object {\"input_ids\",\"rows\",\"cols\",\"pixel_values_shape\"}." };
        var command = new Command("prompt", "The decoder's input ids for an image and a question (what the model will read).");
        command.Arguments.Add(image);
        command.Arguments.Add(question);
        command.Options.Add(model);
        command.Options.Add(profile);
        command.Options.Add(roi);
        command.Options.Add(json);
        command.Options.Add(dataset);
        command.SetAction(result =>
        {
            try
            {
                CompressionProfile p = ProfileArgument.Parse(result.GetValue(profile));

                ModelPackage package = ModelPackage.Load(DemoModels.Resolve(result.GetValue(model)!), variant: null, verifyHashes: false);
                var builder = new PromptBuilder(package.Manifest, new TokenizerAdapter(package.LoadTokenizer()));
                if (result.GetValue(dataset) is { } datasetFile)
                {
                    return DumpDataset(datasetFile, builder, package.Manifest, p);
                }

                if (result.GetValue(image) is null || result.GetValue(question) is null)
                {
                    throw new CliException("give IMAGE and QUESTION, or --dataset FILE");
                }

                PixelSize size;
                using (Mat mat = ImageFiles.ReadBgr(result.GetValue(image)!))
                {
                    ImageView frame = PreprocessCommand.ViewOf(mat);
                    PixelRect rect = PreprocessCommand.ParseRoi(result.GetValue(roi)) ?? PixelRect.FromSize(frame.Size);
                    size = frame.Crop(rect).Size;
                }

                SlicePlan plan = builder.PlanFor(size, p);
                AssembledPrompt prompt = builder.Build(plan, result.GetValue(question)!);
                int rows = plan.Grid?.Rows ?? 0;
                int cols = plan.Grid?.Columns ?? 0;
                int maxW = plan.Views.Max(v => v.Size.Width);
                int maxH = plan.Views.Max(v => v.Size.Height);
                int[] shape = [1, plan.Views.Length, 3, maxH, maxW];
                if (result.GetValue(json))
                {
                    var output = new PromptJson(prompt.Ids, rows, cols, shape);
                    Console.WriteLine(JsonSerializer.Serialize(output, PromptJson.Options));
                }
                else
                {
                    Console.WriteLine($"{prompt.Length} tokens ({prompt.VisualTokenCount} image placeholders), grid {rows}×{cols}, pixel_values [{string.Join(", ", shape)}]");
                    Console.WriteLine(builder.Tokenizer.Decode(prompt.Ids));
                }

                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is CliException or ModelPackageException or ArgumentException or ImageFormatException or SlicingException or PromptException or IOException)
            {
                Console.Error.WriteLine($"prompt: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    /// <summary>
    /// One line per dataset line: the prompt ids for the line's image (or its <c>roi</c>) under the profile, the ids of
    /// the answer as the model should write it (a space, the answer, then the first stop token), and the
    /// <c>longest_edge</c> the profile resizes the region to, so a trainer can cut the same views (docs/demo-model.md).
    /// </summary>
    private static int DumpDataset(string file, PromptBuilder builder, ModelManifest manifest, CompressionProfile profile)
    {
        if (!File.Exists(file))
        {
            throw new CliException($"dataset '{file}' does not exist");
        }

        string root = Path.GetDirectoryName(Path.GetFullPath(file))!;
        int stop = manifest.Generation.EosTokenIds.Count > 0 ? manifest.Generation.EosTokenIds[0] : manifest.Tokens.EosTokenIds[0];
        var sizes = new Dictionary<string, PixelSize>(StringComparer.Ordinal);
        int n = 0;
        foreach (string line in File.ReadLines(file))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement e = doc.RootElement;
            string image = e.GetProperty("image").GetString()!;
            if (!sizes.TryGetValue(image, out PixelSize size))
            {
                using Mat header = Cv2.ImRead(Path.Combine(root, image), ImreadModes.Unchanged);
                if (header.Empty())
                {
                    throw new CliException($"{file}:{n + 1}: cannot read image '{image}'");
                }

                size = new PixelSize(header.Width, header.Height);
                sizes[image] = size;
            }

            int[]? roi = e.TryGetProperty("roi", out JsonElement r) && r.ValueKind == JsonValueKind.Array ? [.. r.EnumerateArray().Select(x => x.GetInt32())] : null;
            PixelSize region = roi is null ? size : new PixelSize(roi[2], roi[3]);
            SlicePlan plan = builder.PlanFor(region, profile);
            AssembledPrompt prompt = builder.Build(plan, e.GetProperty("question").GetString()!);
            var answer = new List<int>();
            builder.Tokenizer.Encode(" " + e.GetProperty("answer").GetString(), answer);
            answer.Add(stop);
            var output = new System.Text.Json.Nodes.JsonObject
            {
                ["line"] = n,
                ["image"] = image,
                ["type"] = e.TryGetProperty("type", out JsonElement t) ? t.GetString() : null,
                ["answer"] = e.GetProperty("answer").GetString(),
                ["roi"] = roi is null ? null : new System.Text.Json.Nodes.JsonArray([.. roi.Select(v => (System.Text.Json.Nodes.JsonNode)v)]),
                ["profile"] = profile.ToName(),
                ["longest_edge"] = plan.Options.LongestEdge,
                ["rows"] = plan.Grid?.Rows ?? 0,
                ["cols"] = plan.Grid?.Columns ?? 0,
                ["views"] = plan.Views.Length,
                ["input_ids"] = new System.Text.Json.Nodes.JsonArray([.. prompt.Ids.Select(v => (System.Text.Json.Nodes.JsonNode)v)]),
                ["answer_ids"] = new System.Text.Json.Nodes.JsonArray([.. answer.Select(v => (System.Text.Json.Nodes.JsonNode)v)]),
            };
            Console.WriteLine(output.ToJsonString());
            n++;
        }

        return ExitCodes.Ok;
    }

    private sealed record PromptJson(
        [property: System.Text.Json.Serialization.JsonPropertyName("input_ids")] IReadOnlyList<int> InputIds,
        [property: System.Text.Json.Serialization.JsonPropertyName("rows")] int Rows,
        [property: System.Text.Json.Serialization.JsonPropertyName("cols")] int Cols,
        [property: System.Text.Json.Serialization.JsonPropertyName("pixel_values_shape")] int[] PixelValuesShape)
    {
        public static JsonSerializerOptions Options { get; } = new();
    }
}
