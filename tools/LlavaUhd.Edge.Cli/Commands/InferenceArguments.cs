using System.CommandLine;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Providers;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>Model and runtime options shared by <c>ask</c>, <c>bench decode</c> and the token verbs.</summary>
internal sealed class InferenceArguments
{
    public Option<string> Model { get; } = new("--model")
    {
        Description = "Model package folder (public layout + model.json), or a demo model by name: demo:smolvlm (the default), demo:llava-uhd-v1, demo:llava-uhd-v3 (built on first use).",
        DefaultValueFactory = _ => DemoModels.Default,
    };

    public Option<string?> Variant { get; } = new("--variant") { Description = "Package variant: fp32, fp16, int8, uint8, q8, q4, qdq-int8, cpu-int8, cpu-q4 (default: the package's)." };

    public Option<string?> Providers { get; } = new("--providers") { Description = "Execution providers in order, e.g. tensorrt,cuda,cpu (default: cpu)." };

    public Option<string?> Require { get; } = new("--require") { Description = "Refuse to run without this provider (tensorrt, cuda)." };

    public Option<int> Threads { get; } = new("--threads") { Description = "ONNX Runtime and pixel threads (0 = all cores).", DefaultValueFactory = _ => 0 };

    public Option<string?> EngineCache { get; } = new("--engine-cache") { Description = "TensorRT engine cache folder." };

    public Option<int> ViewsPerCall { get; } = new("--views-per-call") { Description = "Most views per vision-encoder call (0 = automatic: one on the CPU, all on a GPU; a cap bounds peak memory).", DefaultValueFactory = _ => 0 };

    public Option<string?> CpuArena { get; } = new("--cpu-arena") { Description = "ONNX Runtime's CPU memory arena: shared (one for all sessions, the default), session (one per session) or off (Inference:Providers:Cpu:MemoryArena, docs/memory.md)." };

    public Option<int> PrefillTokensPerCall { get; } = new("--prefill-tokens-per-call") { Description = "Most prompt tokens per decoder call during prefill (0 = automatic: 256 on the CPU, the whole prompt on a GPU).", DefaultValueFactory = _ => 0 };

    public Option<bool?> Prepacking { get; } = new("--prepacking") { Description = "Repack constant weights at load, true or false (default true: Inference:Providers:Cpu:Prepacking)." };

    public Option<bool?> MemoryPattern { get; } = new("--memory-pattern") { Description = "ONNX Runtime's memory pattern, true or false (default false: Inference:Providers:Cpu:MemoryPattern)." };

    public Option<string?> Spinning { get; } = new("--spinning") { Description = "Whose ONNX Runtime threads spin between operators: decoder (the default here: a one-off job owns the cores; decode 1.3-1.4x faster after a short prompt), all or off (the service's default, Inference:Providers:Cpu:Spinning; docs/cpu-decoder.md)." };

    public Option<string?> OptimizedModelDir { get; } = new("--optimized-model-dir") { Description = "Save each session's graph as ONNX Runtime optimised it into this folder, to see which fusions applied (Inference:Providers:Cpu:OptimizedModelDir)." };

    public Option<string?> OrtProfile { get; } = new("--ort-profile") { Description = "Profile every ONNX Runtime run into this folder, one Chrome-trace JSON per session: each operator's time (Inference:Providers:Cpu:ProfileDir; slows the run)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Variant);
        command.Options.Add(Providers);
        command.Options.Add(Require);
        command.Options.Add(Threads);
        command.Options.Add(EngineCache);
        command.Options.Add(ViewsPerCall);
        command.Options.Add(PrefillTokensPerCall);
        command.Options.Add(CpuArena);
        command.Options.Add(Prepacking);
        command.Options.Add(MemoryPattern);
        Spinning.AcceptOnlyFromAmong([.. CpuSpinning.Values]);
        command.Options.Add(Spinning);
        command.Options.Add(OptimizedModelDir);
        command.Options.Add(OrtProfile);
    }

    public InferenceOptions Bind(ParseResult result)
    {
        var options = new InferenceOptions
        {
            Model = DemoModels.Resolve(result.GetValue(Model)!, new ModelsCommand.ConsoleProgress(System.Diagnostics.Stopwatch.StartNew())),
            Variant = result.GetValue(Variant),
            PixelThreads = result.GetValue(Threads),
            MaxViewsPerEncoderCall = result.GetValue(ViewsPerCall),
            MaxPrefillTokensPerCall = result.GetValue(PrefillTokensPerCall),
        };
        options.Providers.Order = (result.GetValue(Providers) ?? ProviderNames.Cpu).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        options.Providers.Require = result.GetValue(Require);
        options.Providers.Cpu.IntraOpThreads = result.GetValue(Threads);
        options.Providers.Cpu.MemoryArena = result.GetValue(CpuArena) ?? options.Providers.Cpu.MemoryArena;
        options.Providers.Cpu.Prepacking = result.GetValue(Prepacking) ?? options.Providers.Cpu.Prepacking;
        options.Providers.Cpu.MemoryPattern = result.GetValue(MemoryPattern) ?? options.Providers.Cpu.MemoryPattern;
        options.Providers.Cpu.Spinning = result.GetValue(Spinning) ?? CpuSpinning.Decoder;
        options.Providers.Cpu.OptimizedModelDir = result.GetValue(OptimizedModelDir);
        options.Providers.Cpu.ProfileDir = result.GetValue(OrtProfile);
        if (result.GetValue(EngineCache) is { Length: > 0 } cache)
        {
            options.Providers.TensorRt.EngineCacheDir = cache;
        }

        return options;
    }
}
