using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Tokenization;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// <c>tokenize "text" --model DIR [--json]</c>: the ids the package's <c>tokenizer.json</c> gives the text, with no
/// special tokens added (special tokens written in the text become their ids), as the reference tokenizer does.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var text = new Argument<string>("TEXT") { Description = "The text to tokenize (\"-\" reads it from stdin, whole)." };
        var model = new Option<string>("--model") { Description = "Model package or Hugging Face folder holding tokenizer.json, or a demo model by name: demo:smolvlm (the default), demo:llava-uhd-v1, demo:llava-uhd-v3.", DefaultValueFactory = _ => DemoModels.Default };
        var json = new Option<bool>("--json") { Description = "Print {\"ids\":[…]} instead of the ids and their pieces." };
        var command = new Command("tokenize", "Token ids of a text with the package's tokenizer (no special tokens added).");
        command.Arguments.Add(text);
        command.Options.Add(model);
        command.Options.Add(json);
        command.SetAction(result =>
        {
            try
            {
                string input = result.GetValue(text)!;
                if (input == "-")
                {
                    input = Console.In.ReadToEnd();
                }

                string path = Path.Combine(DemoModels.Resolve(result.GetValue(model)!), "tokenizer.json");
                if (!File.Exists(path))
                {
                    throw new CliException($"'{path}' does not exist (--model is a package folder holding tokenizer.json)");
                }

                var tokenizer = new TokenizerAdapter(HfTokenizer.Load(path));
                var ids = new List<int>();
                tokenizer.Encode(input, ids);
                if (result.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, List<int>> { ["ids"] = ids }));
                }
                else
                {
                    var options = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
                    foreach (int id in ids)
                    {
                        Console.WriteLine($"{id}\t{JsonSerializer.Serialize(tokenizer.Decode([id]), options)}");
                    }
                }

                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is CliException or ModelPackageException or IOException)
            {
                Console.Error.WriteLine($"tokenize: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }
}
