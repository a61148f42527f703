using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Diagnostics;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// <c>bench capture</c>: grab → motion ROI → crop on generated MJPG streams (1080p and 4K by default). Prints per size
/// the median wall time per frame and per stage, frames per second, process CPU time per frame and managed bytes
/// allocated per frame in steady state.
/// </summary>
internal static class BenchCaptureCommand
{
    /// <summary>The <c>capture</c> subcommand of <c>bench</c>.</summary>
    public static Command CreateCapture()
    {
        var sizes = new Option<string>("--sizes") { Description = "Comma-separated WxH list.", DefaultValueFactory = _ => "1920x1080,3840x2160" };
        var frames = new Option<int>("--frames") { Description = "Measured frames per size (after 20 warm-up frames).", DefaultValueFactory = _ => 200 };
        var method = new Option<MotionMethod>("--method") { Description = "Motion method: Mog2 or FrameDifference.", DefaultValueFactory = _ => MotionMethod.Mog2 };
        var capture = new Command("capture", "Benchmark grab (MJPG decode) → motion ROI → crop on generated 1080p and 4K streams.");
        capture.Options.Add(sizes);
        capture.Options.Add(frames);
        capture.Options.Add(method);
        capture.SetAction(result =>
        {
            var list = new List<(int W, int H)>();
            foreach (string s in result.GetValue(sizes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!PlanCommand.TryParseSize(s, out int? w, out int? h, out _) || w is not > 0 || h is not > 0)
                {
                    Console.Error.WriteLine($"bench capture: bad size '{s}'; expected WxH");
                    return ExitCodes.Usage;
                }

                list.Add((w.Value, h.Value));
            }

            int n = result.GetValue(frames);
            if (n < 10)
            {
                Console.Error.WriteLine("bench capture: --frames must be at least 10");
                return ExitCodes.Usage;
            }

            Console.WriteLine($"OpenCV {Cv2.GetVersionString()}, {Environment.ProcessorCount} cores, OpenCV threads {Cv2.GetNumThreads()}, .NET {Environment.Version}, motion {result.GetValue(method)}");
            Console.WriteLine("| stream | fps | ms/frame (median) | grab ms | motion ms | crop µs | CPU ms/frame | alloc B/frame | regions |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            foreach ((int w, int h) in list)
            {
                Console.WriteLine(Run(w, h, n, result.GetValue(method)));
            }

            return ExitCodes.Ok;
        });
        return capture;
    }

    private static string Run(int width, int height, int frames, MotionMethod method)
    {
        string dir = Path.Combine(Path.GetTempPath(), "llava-bench-capture");
        Directory.CreateDirectory(dir);
        string video = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"pattern_{width}x{height}.avi"));
        if (!File.Exists(video))
        {
            WriteVideo(video, width, height, 60);
        }

        var options = new CameraOptions
        {
            Id = "bench",
            Source = video,
            OnEnd = EndOfStreamAction.Loop,
            Zones = { ZoneOptions.FromRect("belt", 0.1, 0.3, 0.5, 0.4) },
            Motion = new MotionOptions { Method = method },
        };
        using var source = new OpenCvCameraSource(options);
        source.Open();
        using var selector = RoiSelector.FromOptions(options);
        using var pool = new FrameBufferPool(); // as CameraSupervisor: a pooled buffer and its recycled Frame per grab
        var regions = new List<Region>(16);
        double[] total = new double[frames], grab = new double[frames], motion = new double[frames], crop = new double[frames];
        long regionCount = 0;
        using var process = Process.GetCurrentProcess();
        long allocated = 0;
        TimeSpan cpu = TimeSpan.Zero;
        for (int i = -20; i < frames; i++)
        {
            if (i == 0)
            {
                process.Refresh();
                cpu = process.TotalProcessorTime;
                allocated = GC.GetTotalAllocatedBytes(precise: true);
            }

            long t0 = Stopwatch.GetTimestamp();
            FrameBuffer buffer = pool.Rent();
            if (!source.Read(buffer.Mat))
            {
                buffer.Dispose();
                throw new CliException($"{video}: could not read frame {i}");
            }

            long t1 = Stopwatch.GetTimestamp();
            using Frame frame = buffer.Wrap(default, i, options.Id); // disposing it returns the buffer to the pool
            selector.Select(frame, regions); // zones + motion on the frame's Mat; regions are views (crops) of the frame
            long t2 = Stopwatch.GetTimestamp();
            long checksum = 0;
            foreach (Region region in regions)
            {
                checksum += region.Pixels.Row(region.Pixels.Height - 1)[0]; // touch the crop's last row
            }

            long t3 = Stopwatch.GetTimestamp();
            if (i >= 0)
            {
                grab[i] = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
                motion[i] = Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
                crop[i] = Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds * 1000;
                total[i] = Stopwatch.GetElapsedTime(t0, t3).TotalMilliseconds;
                regionCount += regions.Count + (checksum < 0 ? 1 : 0);
            }
        }

        long allocatedPerFrame = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / frames;
        process.Refresh();
        double cpuPerFrame = (process.TotalProcessorTime - cpu).TotalMilliseconds / frames;
        double median = SampleStatistics.Median(total);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {width}x{height} MJPG | {1000 / median:F1} | {median:F2} | {SampleStatistics.Median(grab):F2} | {SampleStatistics.Median(motion):F2} | {SampleStatistics.Median(crop):F1} | {cpuPerFrame:F2} | {allocatedPerFrame} | {(double)regionCount / frames:F1} |");
    }

    private static void WriteVideo(string path, int width, int height, int frames)
    {
        using var pattern = new TestPatternSource(new CameraOptions { Id = "gen", Source = string.Create(CultureInfo.InvariantCulture, $"testpattern:{width}x{height}") });
        pattern.Open();
        using var writer = new VideoWriter(path, FourCC.MJPG, 30, new Size(width, height));
        if (!writer.IsOpened())
        {
            throw new CliException($"could not write {path} (MJPG/AVI)");
        }

        using var mat = new Mat();
        for (int i = 0; i < frames; i++)
        {
            pattern.Read(mat);
            writer.Write(mat);
        }
    }
}
