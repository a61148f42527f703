using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.ModelBuilder.Generation;
using LlavaUhd.Edge.ModelBuilder.Quantization;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// Demo models by name (<c>demo:smolvlm</c>, <c>demo:llava-uhd-v1</c>, <c>demo:llava-uhd-v3</c>): packages built on first use from the trained weights this build carries,
/// into <c>$LLAVA_EDGE_CACHE</c> (default <c>~/.cache/llava-edge</c>) under a folder named by the weights' sha256, so
/// new weights never meet an old package (docs/demo-model.md).
/// </summary>
internal static class DemoModels
{
    public const string Prefix = "demo:";

    /// <summary>The model <c>ask</c>, <c>eval</c> and the other verbs use when <c>--model</c> is omitted.</summary>
    public const string Default = "demo:smolvlm";

    public static IReadOnlyDictionary<string, string> Presets { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["smolvlm"] = ModelPreset.DemoSmolVlm,
        ["llava-uhd-v1"] = ModelPreset.DemoLlavaUhdV1,
        ["llava-uhd-v3"] = ModelPreset.DemoLlavaUhdV3,
    };

    /// <summary>A package folder for <paramref name="model"/>: a demo name is built when absent; anything else is returned as is.</summary>
    public static string Resolve(string model, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return model;
        }

        string name = model[Prefix.Length..];
        if (!Presets.TryGetValue(name, out string? preset))
        {
            throw new CliException($"unknown demo model '{model}' (known: {string.Join(", ", Presets.Keys.Select(k => Prefix + k))})");
        }

        ModelPreset p;
        try
        {
            p = ModelPreset.Get(preset);
        }
        catch (InvalidDataException ex)
        {
            throw new CliException($"{model}: {ex.Message}");
        }

        string root = Environment.GetEnvironmentVariable("LLAVA_EDGE_CACHE") is { Length: > 0 } cache
            ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "llava-edge");
        // the layout revision (-cpu: with the CPU variant as default) keeps a package from an older build from being reused
        string dir = Path.Combine(root, "models", $"{preset}-{p.Weights!.Sha256[..12]}-cpu");
        if (File.Exists(Path.Combine(dir, ModelManifest.FileName)))
        {
            return dir;
        }

        // Build next to the target and move it into place, so an interrupted build never looks complete.
        string partial = dir + ".partial-" + Environment.ProcessId;
        progress?.Report($"building {model} into {dir} (first use)");
        PackageGenerator.Generate(p, partial, progress: progress);

        // The CPU variant as the package's default: the same answers (docs/demo-model.md), a third less time per
        // answer, and the standard graphs stay beside it for --variant fp32 and the GPU providers.
        PackageOptimizer.Optimize(partial, 8, progress: progress, makeDefault: true);
        try
        {
            Directory.Move(partial, dir);
        }
        catch (IOException) when (File.Exists(Path.Combine(dir, ModelManifest.FileName)))
        {
            // Another process built the same package meanwhile: the same weights give the same files; use theirs.
            Directory.Delete(partial, recursive: true);
        }

        return dir;
    }
}
