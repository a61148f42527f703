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
return await root.Parse(args).InvokeAsync();
