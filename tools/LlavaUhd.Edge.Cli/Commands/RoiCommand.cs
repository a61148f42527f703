using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LlavaUhd.Edge.Capture.Errors;
using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Imaging;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// <c>roi SOURCE [--zones FILE] [--motion] [--frames N] [--json] [--debug-png DIR]</c>: prints the regions of
/// interest of each frame in native pixels (one JSON object per frame with --json) and can draw them on the frames.
/// </summary>
internal static class RoiCommand
{
    private static readonly JsonSerializerOptions s_json = new() { PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static Command Create()
    {
        var source = new Argument<string>("SOURCE") { Description = "Device index or /dev/videoN, GStreamer pipeline (… ! appsink), rtsp/http URL, video file, image folder, or testpattern[:WxH]." };
        var zones = new Option<string?>("--zones") { Description = "JSON file of zones: [{\"name\":…,\"rect\":[x,y,w,h]} or {\"name\":…,\"polygon\":[[x,y],…],\"maskOutside\":true}], normalised 0..1." };
        var motion = new Option<bool>("--motion") { Description = "Add motion boxes (MOG2 on a 320-px copy)." };
        var method = new Option<MotionMethod>("--method") { Description = "Motion method: Mog2 or FrameDifference.", DefaultValueFactory = _ => MotionMethod.Mog2 };
        var frames = new Option<int?>("--frames") { Description = "Frames to process (default: all of a file or folder, 100 of a live source)." };
        var json = new Option<bool>("--json") { Description = "One JSON object per frame: {\"frame\":i,\"rois\":[[x,y,w,h],…]}." };
        var debug = new Option<string?>("--debug-png") { Description = "Folder to write each frame with zones (blue) and motion boxes (red) drawn on it." };
        var command = new Command("roi", "Print the regions of interest (zones, motion) of each frame of a camera source in native pixels.");
        command.Arguments.Add(source);
        command.Options.Add(zones);
        command.Options.Add(motion);
        command.Options.Add(method);
        command.Options.Add(frames);
        command.Options.Add(json);
        command.Options.Add(debug);
        command.SetAction(result =>
        {
            try
            {
                var options = new CameraOptions { Id = "roi", Source = result.GetValue(source)! };
                foreach (ZoneOptions zone in ReadZones(result.GetValue(zones)))
                {
                    options.Zones.Add(zone);
                }

                if (result.GetValue(motion))
                {
                    options.Motion = new MotionOptions { Method = result.GetValue(method) };
                }

                int? count = result.GetValue(frames);
                if (count is <= 0)
                {
                    throw new CliException("--frames must be at least 1");
                }

                options.ThrowIfInvalid();
                return Run(options, count, result.GetValue(json), result.GetValue(debug));
            }
            catch (CaptureConfigurationException ex)
            {
                Console.Error.WriteLine($"roi: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is CliException or CameraException or JsonException)
            {
                Console.Error.WriteLine($"roi: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    private static List<ZoneOptions> ReadZones(string? path)
    {
        if (path is null)
        {
            return [];
        }

        if (!File.Exists(path))
        {
            throw new CliException($"zones file '{path}' does not exist");
        }

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        JsonElement list = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("zones", out JsonElement z) ? z : doc.RootElement;
        return list.Deserialize<List<ZoneOptions>>(s_json) ?? throw new CliException($"zones file '{path}' holds no zones");
    }

    private static int Run(CameraOptions options, int? count, bool json, string? debugDir)
    {
        using ICameraSource camera = CameraSourceFactory.Create(options);
        camera.Open();
        int limit = count ?? (camera.IsFinite ? int.MaxValue : 100);
        using var selector = RoiSelector.FromOptions(options);
        using var buffer = new FrameBuffer();
        using var canvas = new Mat();
        if (debugDir is not null)
        {
            Directory.CreateDirectory(debugDir);
        }

        var regions = new List<Region>();
        var line = new StringBuilder();
        DateTimeOffset start = DateTimeOffset.UtcNow;
        int i = 0;
        for (; i < limit && camera.Read(buffer.Mat); i++)
        {
            using var frame = new Frame(buffer.View(), start, i, options.Id);
            selector.Select(frame, regions, buffer.Mat);
            line.Clear();
            if (json)
            {
                line.Append(CultureInfo.InvariantCulture, $"{{\"frame\":{i},\"rois\":[");
                for (int r = 0; r < regions.Count; r++)
                {
                    var rect = regions[r].Rect;
                    line.Append(CultureInfo.InvariantCulture, $"{(r > 0 ? "," : "")}[{rect.X},{rect.Y},{rect.Width},{rect.Height}]");
                }

                line.Append("]}");
            }
            else
            {
                line.Append(CultureInfo.InvariantCulture, $"frame {i}: {regions.Count} region{(regions.Count == 1 ? "" : "s")}");
                foreach (Region region in regions)
                {
                    line.Append(CultureInfo.InvariantCulture, $"; {region.Reason.ToString().ToLowerInvariant()}{(region.Name is null ? "" : " " + region.Name)} {region.Rect}");
                }
            }

            Console.WriteLine(line.ToString());
            if (debugDir is not null)
            {
                buffer.Mat.CopyTo(canvas);
                Draw(canvas, selector, regions);
                ImageFiles.WritePng(Path.Combine(debugDir, string.Create(CultureInfo.InvariantCulture, $"frame_{i:D6}.png")), canvas);
            }
        }

        if (i == 0)
        {
            throw new CameraException($"{camera.Description}: no frame could be read");
        }

        return ExitCodes.Ok;
    }

    private static void Draw(Mat canvas, RoiSelector selector, List<Region> regions)
    {
        int thick = Math.Max(1, canvas.Width / 640);
        double font = Math.Max(0.4, canvas.Width / 1600.0);
        foreach (ResolvedZone zone in selector.Zones.Resolve(new Core.Slicing.PixelSize(canvas.Width, canvas.Height)))
        {
            Cv2.Polylines(canvas, [zone.Polygon.ToArray()], isClosed: true, new Scalar(255, 128, 0), thick, LineTypes.AntiAlias);
            Cv2.Rectangle(canvas, ToRect(zone.Rect), new Scalar(255, 200, 120), 1);
            Cv2.PutText(canvas, zone.Name, new Point(zone.Rect.X + 3, zone.Rect.Y + (int)(18 * font)), HersheyFonts.HersheySimplex, font, new Scalar(255, 128, 0), thick, LineTypes.AntiAlias);
        }

        foreach (Region region in regions)
        {
            if (region.Reason == RegionReason.Motion)
            {
                Cv2.Rectangle(canvas, ToRect(region.Rect), new Scalar(0, 0, 255), thick + 1);
                Cv2.PutText(canvas, $"motion {region.Rect}", new Point(region.Rect.X, Math.Max(12, region.Rect.Y - 4)), HersheyFonts.HersheySimplex, font, new Scalar(0, 0, 255), thick, LineTypes.AntiAlias);
            }
        }

        static Rect ToRect(Core.Slicing.PixelRect r) => new(r.X, r.Y, r.Width, r.Height);
    }
}
