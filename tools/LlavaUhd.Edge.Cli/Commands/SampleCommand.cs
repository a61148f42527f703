using System.CommandLine;
using System.Globalization;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary><c>sample</c>: writes a generated test image (a small workbench scene with parts, labels and fine text).</summary>
internal static class SampleCommand
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Image size WxH (default 1920x1080).", DefaultValueFactory = _ => "1920x1080" };
        var output = new Option<string?>("--out") { Description = "Image file to write (PNG)." };
        var dataset = new Option<string?>("--dataset") { Description = "Write a question dataset of parcel scenes to this folder (images/ and dataset.jsonl) instead; see docs/scenes.md." };
        var count = new Option<int>("--count") { Description = "--dataset: number of scenes (each gets up to five questions).", DefaultValueFactory = _ => 100 };
        var roi = new Option<bool>("--roi") { Description = "--dataset: code questions carry a region around the asked parcel (\"roi\")." };
        var seed = new Option<int>("--seed") { Description = "Random seed (default 7).", DefaultValueFactory = _ => 7 };
        var video = new Option<bool>("--video") { Description = "Write an MJPG AVI instead (three parcels moving along the belt, docs/scenes.md); --out should end in .avi." };
        var frames = new Option<int>("--frames") { Description = "Frames of the video (default 60).", DefaultValueFactory = _ => 60 };
        var fps = new Option<int>("--fps") { Description = "Frame rate of the video (default 10).", DefaultValueFactory = _ => 10 };
        var command = new Command("sample", "Write a generated sample image (or video) for trying the other verbs and the service.");
        command.Options.Add(size);
        command.Options.Add(output);
        command.Options.Add(dataset);
        command.Options.Add(count);
        command.Options.Add(roi);
        command.Options.Add(seed);
        command.Options.Add(video);
        command.Options.Add(frames);
        command.Options.Add(fps);
        command.SetAction(result =>
        {
            if (!PlanCommand.TryParseSize(result.GetValue(size)!, out int? w, out int? h, out string? error) || w <= 0 || h <= 0 || w > 16384 || h > 16384)
            {
                Console.Error.WriteLine($"sample: --size {result.GetValue(size)}: {error ?? "sides must be between 1 and 16384"}");
                return ExitCodes.Usage;
            }

            if (result.GetValue(dataset) is { } datasetDir)
            {
                int n = result.GetValue(count);
                if (n is < 1 or > 1_000_000)
                {
                    Console.Error.WriteLine("sample: --count must be 1..1000000");
                    return ExitCodes.Usage;
                }

                (int, int)? fixedSize = result.GetResult(size) is { Implicit: false } ? (w!.Value, h!.Value) : null;
                int lines = WriteDataset(datasetDir, n, result.GetValue(seed), fixedSize, result.GetValue(roi));
                Console.WriteLine($"wrote {n} scenes and {lines} questions to {Path.Combine(datasetDir, "dataset.jsonl")}");
                return ExitCodes.Ok;
            }

            if (result.GetValue(output) is not { } outputPath)
            {
                Console.Error.WriteLine("sample: give --out FILE (an image or, with --video, an AVI) or --dataset DIR");
                return ExitCodes.Usage;
            }

            if (result.GetValue(video))
            {
                int n = result.GetValue(frames), rate = result.GetValue(fps);
                if (n is < 1 or > 100_000 || rate is < 1 or > 240)
                {
                    Console.Error.WriteLine("sample: --frames must be 1..100000 and --fps 1..240");
                    return ExitCodes.Usage;
                }

                string path = outputPath;
                if (!WriteVideo(path, w!.Value, h!.Value, result.GetValue(seed), n, rate))
                {
                    Console.Error.WriteLine($"sample: OpenCV could not open an MJPG writer for {path}");
                    return ExitCodes.Failed;
                }

                Console.WriteLine($"wrote {path} ({w}x{h}, {n} frames MJPG at {rate} fps)");
                return ExitCodes.Ok;
            }

            using Mat image = Render(w!.Value, h!.Value, result.GetValue(seed));
            ImageFiles.WritePng(outputPath, image);
            Console.WriteLine($"wrote {outputPath} ({w}x{h})");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Writes <paramref name="count"/> parcel scenes to <c>DIR/images/</c>, their questions to <c>DIR/dataset.jsonl</c> and their ground truth (belt, parcels with colour, box and code) to <c>DIR/scenes.jsonl</c>.</summary>
    public static int WriteDataset(string directory, int count, int seed, (int Width, int Height)? size, bool withRoi)
    {
        Directory.CreateDirectory(Path.Combine(directory, "images"));
        int lines = 0;
        using var writer = new StreamWriter(Path.Combine(directory, "dataset.jsonl"), append: false, new System.Text.UTF8Encoding(false));
        using var truth = new StreamWriter(Path.Combine(directory, "scenes.jsonl"), append: false, new System.Text.UTF8Encoding(false));
        static System.Text.Json.Nodes.JsonArray Box(Rect r) => new(r.X, r.Y, r.Width, r.Height);
        for (int i = 0; i < count; i++)
        {
            using ParcelScene scene = ParcelScenes.Render(seed, i, size);
            string relative = string.Create(CultureInfo.InvariantCulture, $"images/{seed}-{i:D5}.png");
            ImageFiles.WritePng(Path.Combine(directory, relative), scene.Image);
            var parcels = new System.Text.Json.Nodes.JsonArray();
            foreach (Parcel p in scene.Parcels)
            {
                parcels.Add(new System.Text.Json.Nodes.JsonObject { ["color"] = p.Color, ["box"] = Box(p.Box), ["code"] = p.Code });
            }

            truth.WriteLine(new System.Text.Json.Nodes.JsonObject
            {
                ["image"] = relative,
                ["width"] = scene.Image.Width,
                ["height"] = scene.Image.Height,
                ["belt"] = Box(scene.Belt),
                ["parcels"] = parcels,
            }.ToJsonString());
            foreach (SceneQuestion q in scene.Questions)
            {
                var line = new System.Text.Json.Nodes.JsonObject
                {
                    ["image"] = relative,
                    ["question"] = q.Question,
                    ["answer"] = q.Answer,
                    ["type"] = q.Type,
                };
                if (withRoi && q.Roi is { } r)
                {
                    line["roi"] = new System.Text.Json.Nodes.JsonArray(r.X, r.Y, r.Width, r.Height);
                }

                writer.WriteLine(line.ToJsonString());
                lines++;
            }
        }

        return lines;
    }

    /// <summary>Parcels in the demo domain (docs/scenes.md) moving slowly along the belt and back, as an MJPG AVI (OpenCV's built-in writer, no FFmpeg needed): the service's demo camera.</summary>
    /// <remarks>Three parcels, all in frame and in their thirds throughout, so a standing question such as "How many parcels are on the belt?" has one right answer in every frame.</remarks>
    public static bool WriteVideo(string path, int width, int height, int seed, int frames, int fps)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        using var writer = new VideoWriter(path, FourCC.MJPG, fps, new Size(width, height));
        if (!writer.IsOpened())
        {
            return false;
        }

        int amplitude = Math.Max(1, width / 40);
        for (int i = 0; i < frames; i++)
        {
            // A triangle wave: 0 → amplitude → 0, so the video loops without a jump.
            int phase = frames <= 1 ? 0 : (int)((long)i * 2 * amplitude / frames);
            int shift = phase <= amplitude ? phase : (2 * amplitude) - phase;
            using ParcelScene scene = ParcelScenes.Render(seed, 0, (width, height), parcelCount: 3, shiftX: shift);
            writer.Write(scene.Image);
        }

        return true;
    }

    /// <summary>A deterministic scene: graded background, a conveyor, boxes with labels, a gauge and small print.</summary>
    public static Mat Render(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var image = new Mat(height, width, MatType.CV_8UC3);
        for (int y = 0; y < height; y++)
        {
            byte v = (byte)(60 + (120 * y / Math.Max(1, height - 1)));
            Cv2.Line(image, new Point(0, y), new Point(width - 1, y), new Scalar(v, v * 0.9, v * 0.8));
        }

        double u = Math.Max(width, height) / 1000.0;
        int beltY = height * 3 / 5;
        Cv2.Rectangle(image, new Rect(0, beltY, width, Math.Max(2, height / 8)), new Scalar(50, 50, 50), -1);
        for (int x = 0; x < width; x += Math.Max(4, (int)(40 * u)))
        {
            Cv2.Line(image, new Point(x, beltY), new Point(x, beltY + (height / 8)), new Scalar(90, 90, 90), Math.Max(1, (int)u));
        }

        for (int i = 0; i < 6; i++)
        {
            int bw = (int)((80 + rng.Next(80)) * u);
            int bh = (int)((60 + rng.Next(60)) * u);
            int bx = (int)(((i * width) / 6.0) + (rng.Next(20) * u));
            var box = new Rect(bx, beltY - bh, bw, bh);
            var color = new Scalar(40 + rng.Next(60), 90 + rng.Next(100), 150 + rng.Next(100));
            Cv2.Rectangle(image, box, color, -1);
            Cv2.Rectangle(image, box, Scalar.Black, Math.Max(1, (int)u));
            string label = string.Create(CultureInfo.InvariantCulture, $"LOT {1000 + rng.Next(9000)}");
            Cv2.PutText(image, label, new Point(bx + (int)(6 * u), beltY - bh + (int)(24 * u)), HersheyFonts.HersheySimplex, 0.5 * u, Scalar.Black, Math.Max(1, (int)u), LineTypes.AntiAlias);
        }

        var gauge = new Point(width / 8, height / 4);
        int radius = (int)(70 * u);
        Cv2.Circle(image, gauge, radius, Scalar.White, -1, LineTypes.AntiAlias);
        Cv2.Circle(image, gauge, radius, Scalar.Black, Math.Max(1, (int)(3 * u)), LineTypes.AntiAlias);
        double angle = (0.2 + (rng.NextDouble() * 0.6)) * Math.PI;
        Cv2.Line(image, gauge, new Point(gauge.X - (int)(Math.Cos(angle) * radius * 0.8), gauge.Y - (int)(Math.Sin(angle) * radius * 0.8)), new Scalar(0, 0, 200), Math.Max(1, (int)(3 * u)), LineTypes.AntiAlias);

        Cv2.PutText(image, "STATION 4  PRESSURE OK  SERIAL A7-3301", new Point(width / 3, height / 6), HersheyFonts.HersheySimplex, 0.35 * u, Scalar.White, 1, LineTypes.AntiAlias);
        return image;
    }
}
