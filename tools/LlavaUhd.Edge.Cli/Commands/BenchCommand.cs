using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary><c>bench pixels --size WxH --scheme …</c>: the pixel path on a generated frame, many times in one process.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure a part of the runtime in-process.");
        bench.Subcommands.Add(CreatePixels());
        bench.Subcommands.Add(BenchCaptureCommand.CreateCapture());
        bench.Subcommands.Add(BenchEncodeCommand.CreateEncode());
        bench.Subcommands.Add(BenchDecodeCommand.CreateDecode());
        bench.Subcommands.Add(BenchGenerateCommand.Create());
        return bench;
    }

    public readonly record struct PixelsResult(double MedianMs, double P90Ms, long AllocBytesPerFrame, int Frames, int Views);

    private static Command CreatePixels()
    {
        var slicing = new SlicingArguments();
        var size = new Option<string>("--size") { Description = "Frame size WxH, e.g. 3840x2160.", Required = true };
        var threads = new Option<int?>("--threads") { Description = "Threads for the pixel path (default: all cores)." };
        var frames = new Option<int>("--frames") { Description = "Frames to time (after 5 warm-up frames).", DefaultValueFactory = _ => 50 };
        var simd = new Option<SimdMode>("--simd") { Description = "Kernel path: Auto (default), Scalar, Vector128, Avx2 or Avx2Madd.", DefaultValueFactory = _ => SimdMode.Auto };
        var json = new Option<bool>("--json") { Description = "Print only {\"median_ms\":…,\"p90_ms\":…,\"alloc_bytes_per_frame\":…}." };
        var command = new Command("pixels", "Time plan execution (resampling + normalisation) on a generated BGR frame: median and p90 ms per frame, bytes allocated per frame.");
        slicing.AddTo(command);
        command.Options.Add(size);
        command.Options.Add(threads);
        command.Options.Add(frames);
        command.Options.Add(simd);
        command.Options.Add(json);
        command.SetAction(result =>
        {
            try
            {
                SlicingOptions options = slicing.Bind(result);
                PixelSize frame = ParseSize(result.GetValue(size)!);
                int n = result.GetValue(frames);
                if (n < 1)
                {
                    throw new CliException("--frames must be at least 1");
                }

                PixelsResult r = RunPixels(frame, options, result.GetValue(threads) ?? Environment.ProcessorCount, n, result.GetValue(simd));
                if (result.GetValue(json))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"median_ms\":{r.MedianMs:0.###},\"p90_ms\":{r.P90Ms:0.###},\"alloc_bytes_per_frame\":{r.AllocBytesPerFrame}}}"));
                }
                else
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{options.Scheme.ToName()} {frame} -> {r.Views} views: median {r.MedianMs:0.##} ms, p90 {r.P90Ms:0.##} ms, {r.AllocBytesPerFrame} bytes allocated per frame ({r.Frames} frames)"));
                }

                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is SlicingException or CliException or ImageFormatException or ArgumentException)
            {
                Console.Error.WriteLine($"bench pixels: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    public static PixelSize ParseSize(string text)
    {
        string[] p = text.ToLowerInvariant().Split('x');
        if (p.Length != 2 || !int.TryParse(p[0], CultureInfo.InvariantCulture, out int w) || !int.TryParse(p[1], CultureInfo.InvariantCulture, out int h) || w < 1 || h < 1 || w > 16384 || h > 16384)
        {
            throw new CliException($"--size '{text}' is not WxH with sides between 1 and 16384");
        }

        return new PixelSize(w, h);
    }

    public static PixelsResult RunPixels(PixelSize size, SlicingOptions options, int threads, int frames, SimdMode simd = SimdMode.Auto)
    {
        byte[] pixels = new byte[size.Area * 3];
        for (int y = 0; y < size.Height; y++)
        {
            for (int x = 0; x < size.Width; x++)
            {
                int i = ((y * size.Width) + x) * 3;
                pixels[i] = (byte)((x * 255) / size.Width);
                pixels[i + 1] = (byte)((y * 255) / size.Height);
                pixels[i + 2] = (byte)(((x ^ y) & 31) * 8);
            }
        }

        ImageView frame = ImageView.Packed(pixels, size.Width, size.Height, PixelFormat.Bgr24);
        SlicePlan plan = SlicePlanner.Plan(size, options);
        using var executor = new PlanExecutor(new PixelPipelineOptions { DegreeOfParallelism = threads, Simd = simd });
        using var batch = new ViewBatch(options.Scheme == SliceScheme.Idefics3 ? TensorLayout.PaddedBatch : TensorLayout.PerView);
        for (int i = 0; i < 5; i++)
        {
            executor.Execute(plan, frame, batch);
        }

        double[] ms = new double[frames];
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < frames; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            executor.Execute(plan, frame, batch);
            ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        long alloc = (GC.GetTotalAllocatedBytes(precise: true) - before) / frames;
        Array.Sort(ms);
        double median = SampleStatistics.PercentileOfSorted(ms, 50);
        double p90 = SampleStatistics.PercentileOfSorted(ms, 90);
        return new PixelsResult(median, p90, alloc, frames, plan.Views.Length);
    }
}
