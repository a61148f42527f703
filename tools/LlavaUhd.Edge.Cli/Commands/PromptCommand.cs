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
        var image = new Argument<string>("IMAGE") { Description = "Image file." };
        var question = new Argument<string>("QUESTION") { Description = "The question." };
        var model = new Option<string>("--model") { Description = "Model package folder (public layout + model.json).", Required = true };
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
        command.SetAction(result =>
        {
            try
            {
                if (!CompressionProfiles.TryParse(result.GetValue(profile), out CompressionProfile p))
                {
                    throw new CliException($"--profile '{result.GetValue(profile)}' is not one of {string.Join(", ", CompressionProfiles.Names)}");
                }

                ModelPackage package = ModelPackage.Load(result.GetValue(model)!, variant: null, verifyHashes: false);
                var builder = new PromptBuilder(package.Manifest, new TokenizerAdapter(package.LoadTokenizer()));
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

    private sealed record PromptJson(
        [property: System.Text.Json.Serialization.JsonPropertyName("input_ids")] IReadOnlyList<int> InputIds,
        [property: System.Text.Json.Serialization.JsonPropertyName("rows")] int Rows,
        [property: System.Text.Json.Serialization.JsonPropertyName("cols")] int Cols,
        [property: System.Text.Json.Serialization.JsonPropertyName("pixel_values_shape")] int[] PixelValuesShape)
    {
        public static JsonSerializerOptions Options { get; } = new();
    }
}
