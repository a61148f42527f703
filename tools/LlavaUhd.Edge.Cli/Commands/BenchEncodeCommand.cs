using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary><c>bench encode</c>: times the vision encoder of a package variant in one process.</summary>
internal static class BenchEncodeCommand
{
    /// <summary>The <c>encode</c> subcommand of <c>bench</c>.</summary>
    public static Command CreateEncode()
    {
        var model = new Option<string>("--model") { Description = "Package folder.", Required = true };
        var variant = new Option<string>("--variant") { Description = "fp32 | qdq-int8 | q4 | int8 | ...", DefaultValueFactory = _ => ModelVariants.Fp32 };
        var tiles = new Option<int>("--tiles") { Description = "Views per call (smolvlm: num_images; 13 = a 4:3 frame).", DefaultValueFactory = _ => 1 };
        var runs = new Option<int>("--runs") { Description = "Timed runs (after 2 warm-ups).", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print {\"median_ms\":…} only." };
        var encode = new Command("encode", "Time the vision encoder (median of --runs).");
        encode.Options.Add(model);
        encode.Options.Add(variant);
        encode.Options.Add(tiles);
        encode.Options.Add(runs);
        encode.Options.Add(threads);
        encode.Options.Add(json);
        encode.SetAction(result => ModelsCommand.Guard("bench encode", () =>
        {
            ModelPackage package = ModelPackage.Load(result.GetValue(model)!, result.GetValue(variant), verifyHashes: false);
            ManifestDimensions d = package.Manifest.Dimensions;
            int n = result.GetValue(tiles);
            var factory = new OnnxSessionFactory(new OnnxSessionOptions { IntraOpThreads = result.GetValue(threads) });
            using InferenceSession session = factory.Create(package.SessionPath(SessionNames.VisionEncoder), SessionNames.VisionEncoder);
            var values = new List<OrtValue>();
            var inputs = new Dictionary<string, OrtValue>();
            int s = package.Manifest.Family == ModelFamilies.SmolVlm ? d.ImageSize : package.Manifest.Slicing.ScaleResolution;
            var rng = new Random(1);
            float[] pixels = new float[(long)n * 3 * s * s];
            for (int i = 0; i < pixels.Length; i++)
            {
                pixels[i] = (rng.NextSingle() * 2) - 1;
            }

            if (package.Manifest.Family == ModelFamilies.SmolVlm)
            {
                inputs["pixel_values"] = OrtValue.CreateTensorValueFromMemory(pixels, [1, n, 3, s, s]);
                inputs["pixel_attention_mask"] = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(true, n * s * s).ToArray(), [1, n, s, s]);
            }
            else
            {
                int side = s / d.PatchSize;
                inputs["pixel_values"] = OrtValue.CreateTensorValueFromMemory(pixels, [n, 3, s, s]);
                long[] ids = Enumerable.Repeat(LlavaUhd.Edge.Inference.Models.PatchPositions.Bucketed(side, side, d.PositionGrid), n).SelectMany(x => x).ToArray();
                inputs["patch_position_ids"] = OrtValue.CreateTensorValueFromMemory(ids, [n, side * side]);
            }

            try
            {
                using var run = new RunOptions();
                var times = new List<double>();
                for (int i = 0; i < 2 + result.GetValue(runs); i++)
                {
                    var clock = Stopwatch.StartNew();
                    using IDisposableReadOnlyCollection<OrtValue> outs = session.Run(run, inputs, [session.OutputNames[0]]);
                    if (i >= 2)
                    {
                        times.Add(clock.Elapsed.TotalMilliseconds);
                    }
                }

                times.Sort();
                double median = times[times.Count / 2];
                Console.WriteLine(result.GetValue(json)
                    ? string.Create(CultureInfo.InvariantCulture, $"{{\"median_ms\":{median:F2}}}")
                    : string.Create(CultureInfo.InvariantCulture, $"vision_encoder {package.Variant} x{n}: median {median:F2} ms (min {times[0]:F2}, max {times[^1]:F2}, {times.Count} runs)"));
                return ExitCodes.Ok;
            }
            finally
            {
                foreach (OrtValue v in inputs.Values)
                {
                    v.Dispose();
                }
            }
        }));
        return encode;
    }
}
