using System.CommandLine;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Providers;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>Model and runtime options shared by <c>ask</c>, <c>bench decode</c> and the token verbs.</summary>
internal sealed class InferenceArguments
{
    public Option<string> Model { get; } = new("--model")
    {
        Description = "Model package folder (public layout + model.json), or a demo model by name: demo:smolvlm (the default, built on first use).",
        DefaultValueFactory = _ => DemoModels.Default,
    };

    public Option<string?> Variant { get; } = new("--variant") { Description = "Package variant: fp32, fp16, int8, uint8, q8, q4, qdq-int8, cpu-int8, cpu-q4 (default: the package's)." };

    public Option<string?> Providers { get; } = new("--providers") { Description = "Execution providers in order, e.g. tensorrt,cuda,cpu (default: cpu)." };

    public Option<string?> Require { get; } = new("--require") { Description = "Refuse to run without this provider (tensorrt, cuda)." };

    public Option<int> Threads { get; } = new("--threads") { Description = "ONNX Runtime and pixel threads (0 = all cores).", DefaultValueFactory = _ => 0 };

    public Option<string?> EngineCache { get; } = new("--engine-cache") { Description = "TensorRT engine cache folder." };

    public Option<int> ViewsPerCall { get; } = new("--views-per-call") { Description = "Most views per vision-encoder call (0 = automatic: one on the CPU, all on a GPU; a cap bounds peak memory).", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Variant);
        command.Options.Add(Providers);
        command.Options.Add(Require);
        command.Options.Add(Threads);
        command.Options.Add(EngineCache);
        command.Options.Add(ViewsPerCall);
    }

    public InferenceOptions Bind(ParseResult result)
    {
        var options = new InferenceOptions
        {
            Model = DemoModels.Resolve(result.GetValue(Model)!, new ModelsCommand.ConsoleProgress(System.Diagnostics.Stopwatch.StartNew())),
            Variant = result.GetValue(Variant),
            PixelThreads = result.GetValue(Threads),
            MaxViewsPerEncoderCall = result.GetValue(ViewsPerCall),
        };
        options.Providers.Order = (result.GetValue(Providers) ?? ProviderNames.Cpu).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        options.Providers.Require = result.GetValue(Require);
        options.Providers.Cpu.IntraOpThreads = result.GetValue(Threads);
        if (result.GetValue(EngineCache) is { Length: > 0 } cache)
        {
            options.Providers.TensorRt.EngineCacheDir = cache;
        }

        return options;
    }
}
