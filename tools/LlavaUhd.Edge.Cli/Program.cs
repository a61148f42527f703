using System.CommandLine;
using LlavaUhd.Edge.Cli.Commands;

var root = new RootCommand("llava-edge: LlavaUhd.Edge command line (slicing plans, overlays, samples).");
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(SlicesCommand.Create());
root.Subcommands.Add(SampleCommand.Create());
root.Subcommands.Add(PreprocessCommand.Create());
root.Subcommands.Add(RoiCommand.Create());
root.Subcommands.Add(ModelsCommand.Create());
root.Subcommands.Add(AskCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(PromptCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(TokensCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // the README's promise: invalid arguments exit 2 (System.CommandLine's own default is 1)
    foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync("llava-edge: " + error.Message);
    }

    await Console.Error.WriteLineAsync("(llava-edge --help, or llava-edge VERB --help)");
    return ExitCodes.Usage;
}

try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception ex) when (ex is CliException or IOException or UnauthorizedAccessException or InvalidDataException or FormatException
                               or System.Text.Json.JsonException or OpenCvSharp.OpenCVException or ArgumentException or NotSupportedException)
{
    // bad input or an output that cannot be written: one line, no stack trace
    await Console.Error.WriteLineAsync($"llava-edge: {ex.Message}");
    return ExitCodes.Usage;
}
catch (Exception ex) when (ex is not OperationCanceledException)
{
    await Console.Error.WriteLineAsync($"llava-edge: unexpected {ex.GetType().Name}: {ex.Message}");
    if (Environment.GetEnvironmentVariable("LLAVA_EDGE_DEBUG") == "1")
    {
        await Console.Error.WriteLineAsync(ex.ToString());
    }

    return ExitCodes.Failed;
}
