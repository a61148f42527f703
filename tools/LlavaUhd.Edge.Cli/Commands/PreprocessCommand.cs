using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary><c>preprocess IMAGE --scheme … [--roi x,y,w,h] --out DIR</c>: the encoder's input tensors as .npy files.</summary>
internal static class PreprocessCommand
{
    public static Command Create()
    {
        var slicing = new SlicingArguments();
        var image = new Argument<string>("IMAGE") { Description = "Image file (PNG, JPEG, BMP, …)." };
        var roi = new Option<string?>("--roi") { Description = "Region of interest x,y,w,h in image pixels (default: the whole image)." };
        var threads = new Option<int?>("--threads") { Description = "Threads for the pixel path (default: all cores)." };
        var output = new Option<string>("--out") { Description = "Folder for the .npy views and views.json.", Required = true };
        var command = new Command("preprocess", "Execute the slice plan on an image: every view as a normalised float32 [3,H,W] .npy, plus views.json.");
        command.Arguments.Add(image);
        slicing.AddTo(command);
        command.Options.Add(roi);
        command.Options.Add(threads);
        command.Options.Add(output);
        command.SetAction(result =>
        {
            try
            {
                SlicingOptions options = slicing.Bind(result);
                SlicePlan plan = Run(result.GetValue(image)!, options, ParseRoi(result.GetValue(roi)), result.GetValue(threads), result.GetValue(output)!);
                Console.WriteLine($"{plan}: wrote {plan.Views.Length} views to {result.GetValue(output)}");
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is SlicingException or CliException or ImageFormatException or ArgumentException)
            {
                Console.Error.WriteLine($"preprocess: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    public static PixelRect? ParseRoi(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        string[] parts = text.Split(',');
        int[] v = new int[4];
        if (parts.Length != 4 || !parts.Select((p, i) => int.TryParse(p.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out v[i])).All(ok => ok))
        {
            throw new CliException($"--roi '{text}' is not x,y,w,h (four integers)");
        }

        return new PixelRect(v[0], v[1], v[2], v[3]);
    }

    /// <summary>A view of an 8-bit, 3-channel BGR Mat's pixels (no copy); the Mat must outlive it.</summary>
    public static ImageView ViewOf(Mat mat)
    {
        if (mat.Empty())
        {
            throw new ImageFormatException("The image is empty.");
        }

        if (mat.Type() != MatType.CV_8UC3)
        {
            throw new ImageFormatException($"Unsupported pixel format {mat.Type()}; expected 8-bit, 3-channel BGR.");
        }

        int stride = (int)mat.Step();
        long bytes = ((long)stride * (mat.Rows - 1)) + ((long)mat.Cols * 3);
#pragma warning disable CA2000 // UnmanagedMemoryManager owns nothing; the Mat owns the pixels.
        var memory = new UnmanagedMemoryManager<byte>(mat.Data, checked((int)bytes));
#pragma warning restore CA2000
        return new ImageView(memory.Memory, mat.Cols, mat.Rows, stride, PixelFormat.Bgr24);
    }

    public static SlicePlan Run(string imagePath, SlicingOptions options, PixelRect? roi, int? threads, string outDir)
    {
        using Mat mat = ImageFiles.ReadBgr(imagePath);
        ImageView frame = ViewOf(mat);
        PixelRect rect = roi ?? PixelRect.FromSize(frame.Size);
        ImageView region = frame.Crop(rect);
        SlicePlan plan = SlicePlanner.Plan(region.Size, options);
        using var executor = new PlanExecutor(new PixelPipelineOptions { DegreeOfParallelism = threads ?? Environment.ProcessorCount });
        using var batch = new ViewBatch(TensorLayout.PerView);
        executor.Execute(plan, region, batch);

        Directory.CreateDirectory(outDir);
        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("scheme", plan.Scheme.ToName());
            w.WriteString("image", Path.GetFileName(imagePath));
            WriteRect(w, "roi", rect);
            w.WriteString("layout", "[3,H,W] float32 RGB, (v/255 - mean)/std; padding 0, see mask");
            w.WriteStartArray("views");
            for (int i = 0; i < batch.Count; i++)
            {
                SliceView v = plan.Views[i];
                string file = string.Create(CultureInfo.InvariantCulture, $"{i:D2}_{v.Name}.npy");
                string maskFile = string.Create(CultureInfo.InvariantCulture, $"{i:D2}_{v.Name}_mask.npy");
                int[] shape = batch.ViewShape(i);
                NpyWriter.WriteFloat32(Path.Combine(outDir, file), batch.ViewPixels(i), shape);
                NpyWriter.WriteUInt8(Path.Combine(outDir, maskFile), batch.ViewMask(i), shape.AsSpan(1));
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteString("name", v.Name);
                w.WriteString("file", file);
                w.WriteString("mask", maskFile);
                w.WriteStartArray("shape");
                foreach (int d in shape)
                {
                    w.WriteNumberValue(d);
                }

                w.WriteEndArray();
                WriteRect(w, "source", new PixelRect(v.Footprint.X + rect.X, v.Footprint.Y + rect.Y, v.Footprint.Width, v.Footprint.Height));
                WriteRect(w, "valid", v.Valid);
                w.WriteNumber("tokens", v.Tokens);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        File.WriteAllBytes(Path.Combine(outDir, "views.json"), json.ToArray());
        return plan;
    }

    private static void WriteRect(Utf8JsonWriter w, string name, PixelRect r)
    {
        w.WriteStartArray(name);
        w.WriteNumberValue(r.X);
        w.WriteNumberValue(r.Y);
        w.WriteNumberValue(r.Width);
        w.WriteNumberValue(r.Height);
        w.WriteEndArray();
    }
}
