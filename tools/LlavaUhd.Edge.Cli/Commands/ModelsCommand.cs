using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;
using LlavaUhd.Edge.ModelBuilder.Packaging;
using LlavaUhd.Edge.ModelBuilder.Quantization;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary><c>models generate | import | quantize</c>: model packages (see models-quantized/README.md).</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "Model packages: generate test packages, import downloads, quantize to QDQ INT8 or 4-bit MatMulNBits.");
        command.Subcommands.Add(Generate());
        command.Subcommands.Add(Import());
        command.Subcommands.Add(Quantize());
        command.Subcommands.Add(Optimize());
        return command;
    }

    private static Command Optimize()
    {
        var package = new Argument<string>("PACKAGE") { Description = "A package folder with an fp32 variant built by the model builder (generated or trained)." };
        var bits = new Option<int>("--bits") { Description = "8: variant cpu-int8 (8-bit MatMulNBits); 4: variant cpu-q4 (4-bit, 8-bit output head).", DefaultValueFactory = _ => 8 };
        bits.AcceptOnlyFromAmong("8", "4");
        var maxContext = new Option<int>("--max-context") { Description = "Longest prompt + answer the decoder serves (its rotary tables).", DefaultValueFactory = _ => 8192 };
        var encoder = new Option<string>("--encoder") { Description = "The variant's vision encoder: auto (qdq when the package has a qdq-int8 variant, else dynamic), qdq (that static QDQ INT8 encoder), nbits (8-bit MatMulNBits linear layers from fp32), dynamic (dynamically quantized int8 linear layers from fp32) or fp32.", DefaultValueFactory = _ => PackageOptimizer.EncoderChoice.Auto };
        encoder.AcceptOnlyFromAmong([.. PackageOptimizer.EncoderChoice.All]);
        var makeDefault = new Option<bool>("--default") { Description = "Make the new variant the package's default (defaultVariant in model.json): what ask, eval and the service load when no variant is named." };
        var blockSize = new Option<int>("--block-size") { Description = "Weights per scale along K in the decoder's MatMulNBits layers (a power of two from 16 to 256; default 32).", DefaultValueFactory = _ => 32 };
        var command = new Command("optimize", "Write the CPU decoder variant (docs/cpu-decoder.md): fused GroupQueryAttention over one shared KV buffer, SkipSimplifiedLayerNormalization, MatMulNBits weights; select it with --variant cpu-int8 or cpu-q4.");
        command.Arguments.Add(package);
        command.Options.Add(bits);
        command.Options.Add(maxContext);
        command.Options.Add(encoder);
        command.Options.Add(blockSize);
        command.Options.Add(makeDefault);
        command.SetAction(result => Guard("models optimize", () =>
        {
            string dir = result.GetValue(package)!;
            int ctx = result.GetValue(maxContext);
            if (ctx is < 256 or > 131072)
            {
                throw new CliException($"--max-context must be between 256 and 131072 (got {ctx})");
            }

            var clock = Stopwatch.StartNew();
            int block = result.GetValue(blockSize);
            if (block is < 16 or > 256 || (block & (block - 1)) != 0)
            {
                throw new CliException($"--block-size must be a power of two from 16 to 256 (got {block})");
            }

            (string variant, long bytes) = PackageOptimizer.Optimize(dir, result.GetValue(bits), ctx, new ConsoleProgress(clock), result.GetValue(encoder)!, block, result.GetValue(makeDefault));
            VariantDrift.Result drift = VariantDrift.Measure(dir, variant);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"drift against fp32: logits cosine >= {drift.MinLogitsCosine:F6} over {drift.Steps} steps, {drift.SameGreedy} of {drift.Generated} greedy tokens the same{(double.IsNaN(drift.ImageFeaturesCosine) ? string.Empty : $"; image features cosine {drift.ImageFeaturesCosine:F6}")}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{dir}: variant {variant} written (decoder {bytes / 1e6:F1} MB) in {clock.Elapsed.TotalSeconds:F1} s; {(result.GetValue(makeDefault) ? "now the package's default" : $"use --variant {variant}")}"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Generate()
    {
        var preset = new Option<string>("--preset") { Description = $"One of {string.Join(", ", ModelPreset.Names)}." };
        preset.AcceptOnlyFromAmong([.. ModelPreset.Names]);
        var weights = new Option<string>("--weights")
        {
            Description = "Instead of a preset: a folder of trained weights in the compact format (weights.json, weights.bin, weights.sha256; docs/demo-model.md), whose family and dimensions the package takes.",
        };
        var output = new Option<string>("--out") { Description = "Folder to write the package to.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of the random weights.", DefaultValueFactory = _ => 1234 };
        var command = new Command("generate", "Write a package with random weights in the public layout (onnx/, tokenizer.json, configs, model.json).");
        command.Options.Add(preset);
        command.Options.Add(weights);
        command.Options.Add(output);
        command.Options.Add(seed);
        command.Validators.Add(r =>
        {
            if ((r.GetValue(preset) is null) == (r.GetValue(weights) is null))
            {
                r.AddError("models generate: give exactly one of --preset and --weights");
            }
        });
        command.SetAction(result => Guard("models generate", () =>
        {
            var clock = Stopwatch.StartNew();
            var progress = new ConsoleProgress(clock);
            string dir = result.GetValue(output)!;
            ModelPreset chosen = result.GetValue(weights) is { } folder ? TrainedPreset(folder) : ModelPreset.Get(result.GetValue(preset)!);
            ModelManifest m = PackageGenerator.Generate(chosen, dir, result.GetValue(seed), progress);
            long bytes = m.Variants[ModelVariants.Fp32].Sessions.Values.Sum(s => s.Bytes);
            Console.WriteLine($"wrote {m.Name} ({m.Family}) to {dir}: {bytes / 1e6:F1} MB of ONNX in {clock.Elapsed.TotalSeconds:F1} s");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A preset from a compact weights folder; weights.bin must have the sha256 in weights.sha256.</summary>
    private static ModelPreset TrainedPreset(string folder)
    {
        string Need(string name) => File.Exists(Path.Combine(folder, name))
            ? Path.Combine(folder, name)
            : throw new FileNotFoundException($"--weights {folder}: no {name} (a trained-weights folder holds weights.json, weights.bin and weights.sha256)");
        string sha = File.ReadAllText(Need("weights.sha256")).Trim().Split(' ')[0];
        TrainedWeights w = TrainedWeights.Load(File.ReadAllBytes(Need("weights.json")), File.ReadAllBytes(Need("weights.bin")), sha);
        return ModelPreset.FromWeights(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))), w);
    }

    private static Command Import()
    {
        var dir = new Argument<string>("DIR") { Description = "A downloaded repository folder (onnx/, tokenizer.json, config.json, ...)." };
        var variant = new Option<string>("--variant") { Description = "Variant to record: " + string.Join("|", ModelVariants.All), DefaultValueFactory = _ => ModelVariants.Fp32 };
        var command = new Command("import", "Read a downloaded package folder, check it against its family contract and write model.json.");
        command.Arguments.Add(dir);
        command.Options.Add(variant);
        command.SetAction(result => Guard("models import", () =>
        {
            string d = result.GetValue(dir)!;
            ModelManifest m = ModelImporter.Import(d, result.GetValue(variant)!, new OnnxSessionFactory());
            ModelPackage.Load(d, result.GetValue(variant));
            foreach ((string file, string? published) in m.Provenance ?? new Dictionary<string, string?>())
            {
                Console.WriteLine($"  {file}: {published ?? "unknown (not a published file this runtime knows)"}");
            }

            Console.WriteLine($"{d}: {m.Family}, variants {string.Join(", ", m.Variants.Keys)}; wrote {ModelManifest.FileName}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Quantize()
    {
        var package = new Argument<string>("PACKAGE") { Description = "A package folder with an fp32 variant." };
        var calibration = new Option<string>("--calibration") { Description = "Folder of calibration images (a quarter, at least one, are held out for the drift report; q4 uses only those).", Required = true };
        var format = new Option<string>("--format")
        {
            Description = "qdq-int8: static QDQ INT8 (onnx/*_qdq_int8.onnx); q4: weight-only blockwise 4-bit com.microsoft:MatMulNBits (onnx/*_q4.onnx, CPU fast path).",
            DefaultValueFactory = _ => ModelVariants.QdqInt8,
        };
        format.AcceptOnlyFromAmong(ModelVariants.QdqInt8, ModelVariants.Q4);
        var blockSize = new Option<int>("--block-size") { Description = "q4 only: weights per scale along K (power of two >= 16).", DefaultValueFactory = _ => 32 };
        var method = new Option<string>("--method") { Description = "qdq-int8 only: minmax | percentile | entropy", DefaultValueFactory = _ => "minmax" };
        method.AcceptOnlyFromAmong("minmax", "percentile", "entropy");
        var perChannel = new Option<bool>("--per-channel") { Description = "Per-channel weight scales (default per-tensor)." };
        var json = new Option<bool>("--json") { Description = "One JSON line per session." };
        var weightRange = new Option<string>("--weight-range")
        {
            Description = "qdq-int8 only: auto (full [-127,127] where this CPU's int8 kernels cannot saturate, reduced [-64,64] on x86-64 without VNNI), full or reduced.",
            DefaultValueFactory = _ => "auto",
        };
        weightRange.AcceptOnlyFromAmong("auto", "full", "reduced");
        var command = new Command("quantize", "Write the static QDQ INT8 variant (onnx/*_qdq_int8.onnx, variant 'qdq-int8') or, with --format q4, the 4-bit MatMulNBits variant (onnx/*_q4.onnx, variant 'q4'), and report drift against FP32.");
        command.Arguments.Add(package);
        command.Options.Add(calibration);
        command.Options.Add(format);
        command.Options.Add(blockSize);
        command.Options.Add(method);
        command.Options.Add(perChannel);
        command.Options.Add(json);
        command.Options.Add(weightRange);
        command.SetAction(result => Guard("models quantize", () =>
        {
            string dir = result.GetValue(package)!;
            string images = result.GetValue(calibration)!;
            if (!Directory.Exists(images))
            {
                throw new CliException($"calibration folder '{images}' does not exist");
            }

            List<string> files = Directory.EnumerateFiles(images)
                .Where(f => PillowViewPreprocessor.ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal).ToList();
            if (files.Count < 2)
            {
                throw new CliException($"calibration folder '{images}' needs at least 2 images (found {files.Count})");
            }

            ModelManifest m = ModelPackage.Load(dir, ModelVariants.Fp32).Manifest;
            int size = m.Family == ModelFamilies.SmolVlm ? m.Dimensions.ImageSize : m.Slicing.ScaleResolution;
            IViewPreprocessor pre = new PillowViewPreprocessor(m.Slicing.ToSlicingOptions().Filter);
            int held = Math.Max(1, files.Count / 4);
            var views = files.Select(f => pre.Preprocess(f, size, m.Dimensions.ImageMean, m.Dimensions.ImageStd)).ToList();
            CalibrationMethod cm = result.GetValue(method) switch
            {
                "percentile" => CalibrationMethod.Percentile,
                "entropy" => CalibrationMethod.Entropy,
                _ => CalibrationMethod.MinMax,
            };
            bool asJson = result.GetValue(json);
            var clock = Stopwatch.StartNew();
            ConsoleProgress? progress = asJson ? null : new ConsoleProgress(clock);
            IReadOnlyList<SessionReport> reports = result.GetValue(format) == ModelVariants.Q4
                ? PackageQuantizer.QuantizeQ4(dir, views[..held], result.GetValue(blockSize), progress)
                : PackageQuantizer.Quantize(dir, views[held..], views[..held], cm, result.GetValue(perChannel), progress, Enum.Parse<WeightRange>(result.GetValue(weightRange)!, ignoreCase: true));
            if (!asJson && reports.Count > 0 && reports[0].WeightRange is WeightRange wr)
            {
                Console.WriteLine($"weights: {(wr == WeightRange.Full ? "full range [-127, 127]" : "reduced range [-64, 64]")}: {reports[0].WeightRangeReason}");
            }

            foreach (SessionReport r in reports)
            {
                Console.WriteLine(asJson
                    ? JsonSerializer.Serialize(new
                    {
                        session = r.Session,
                        bytes_fp32 = r.BytesFp32,
                        bytes_int8 = r.BytesInt8,
                        cosine = r.Cosine,
                        max_abs_err = r.MaxAbsErr,
                        weight_range = r.WeightRange?.ToString().ToLowerInvariant(),
                        weight_range_reason = r.WeightRangeReason,
                    })
                    : string.Create(CultureInfo.InvariantCulture, $"{r.Session,-22} {r.BytesFp32 / 1e6,9:F2} MB -> {r.BytesInt8 / 1e6,8:F2} MB  cosine({r.ComparedOutput}) {r.Cosine:F5}  max abs err {r.MaxAbsErr:G4}"));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static int Guard(string verb, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is ModelPackageException or CliException or ArgumentException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine($"{verb}: {ex.Message}");
            return ExitCodes.Usage;
        }
    }

    /// <summary>Progress lines on stderr with elapsed time.</summary>
    internal sealed class ConsoleProgress(Stopwatch clock) : IProgress<string>
    {
        public void Report(string value) => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,6:F1}s] {value}"));
    }
}
