using System.CommandLine;
using System.Globalization;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary><c>slices IMAGE --scheme … --out overlay.png</c>: draws the plan on the image so a person can see what the model sees.</summary>
internal static class SlicesCommand
{
    public static Command Create()
    {
        var slicing = new SlicingArguments();
        var image = new Argument<string>("IMAGE") { Description = "Image file (PNG, JPEG, BMP, …)." };
        var output = new Option<string>("--out") { Description = "Overlay PNG to write.", Required = true };
        var command = new Command("slices", "Draw the slice plan (grid, overview inset, tokens per view, total) on an image.");
        command.Arguments.Add(image);
        slicing.AddTo(command);
        command.Options.Add(output);
        command.SetAction(result =>
        {
            try
            {
                SlicingOptions options = slicing.Bind(result);
                SlicePlan plan = Draw(result.GetValue(image)!, options, result.GetValue(output)!);
                Console.WriteLine(plan.ToString());
                foreach (string note in plan.Notes)
                {
                    Console.WriteLine($"note: {note}");
                }

                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is SlicingException or CliException)
            {
                Console.Error.WriteLine($"slices: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    /// <summary>Plans <paramref name="imagePath"/> and writes the overlay to <paramref name="outPath"/>.</summary>
    public static SlicePlan Draw(string imagePath, SlicingOptions options, string outPath)
    {
        using Mat source = ImageFiles.ReadBgr(imagePath);
        SlicePlan plan = SlicePlanner.Plan(source.Width, source.Height, options);
        using Mat canvas = source.Clone();
        double unit = Math.Max(1.0, Math.Max(canvas.Width, canvas.Height) / 1000.0);
        int thickness = Math.Max(1, (int)Math.Round(2 * unit));
        double fontScale = 0.5 * unit;

        foreach (SliceView view in plan.Slices)
        {
            PixelRect f = view.Footprint;
            Cv2.Rectangle(canvas, new Rect(f.X, f.Y, f.Width, f.Height), Palette(view.Index), thickness);
        }

        Rect? inset = DrawOverviewInset(canvas, source, plan, unit, fontScale, thickness);
        foreach (SliceView view in plan.Slices)
        {
            // each label at its slice's top-left corner, or its bottom-left when the overview inset covers that
            PixelRect f = view.Footprint;
            string label = string.Create(CultureInfo.InvariantCulture, $"r{view.Row}c{view.Column} {view.Size.Width}x{view.Size.Height} {view.Tokens}t");
            Size text = Cv2.GetTextSize(label, HersheyFonts.HersheySimplex, fontScale, thickness + 2, out _);
            var at = new Point(f.X + (3 * thickness), f.Y + (int)(22 * unit));
            if (inset is { } r && r.IntersectsWith(new Rect(at.X, at.Y - text.Height, text.Width, text.Height + 4)))
            {
                at = new Point(at.X, f.Y + f.Height - (int)(10 * unit));
            }

            Label(canvas, label, at, fontScale, Palette(view.Index), thickness);
        }
        string banner = string.Create(
            CultureInfo.InvariantCulture,
            $"{plan.Scheme.ToName()}  {plan.Original.Width}x{plan.Original.Height}  grid {plan.Grid?.ToString() ?? "none"}  views {plan.Views.Length}  tokens {plan.TotalTokens}");
        Label(canvas, banner, new Point((int)(8 * unit), canvas.Height - (int)(10 * unit)), fontScale * 1.2, Scalar.White, thickness);

        ImageFiles.WritePng(outPath, canvas);
        return plan;
    }

    /// <summary>Draws the overview at the top right; returns the area it and its label take (null: no room).</summary>
    private static Rect? DrawOverviewInset(Mat canvas, Mat source, SlicePlan plan, double unit, double fontScale, int thickness)
    {
        SliceView overview = plan.OverviewView;
        int maxW = Math.Max(16, canvas.Width / 4);
        int maxH = Math.Max(16, canvas.Height / 4);
        double scale = Math.Min(1.0, Math.Min((double)maxW / overview.Size.Width, (double)maxH / overview.Size.Height));
        int w = Math.Max(1, (int)(overview.Size.Width * scale));
        int h = Math.Max(1, (int)(overview.Size.Height * scale));
        if (w + 4 > canvas.Width || h + 4 > canvas.Height)
        {
            return null;
        }

        using Mat inset = new();
        Cv2.Resize(source, inset, new Size(w, h), 0, 0, InterpolationFlags.Area);
        var at = new Rect(canvas.Width - w - 2, 2, w, h);
        using (Mat target = new(canvas, at))
        {
            inset.CopyTo(target);
        }

        Cv2.Rectangle(canvas, at, Scalar.White, thickness);
        string label = string.Create(CultureInfo.InvariantCulture, $"{(overview.Kind == ViewKind.Global ? "global" : "overview")} {overview.Size.Width}x{overview.Size.Height} {overview.Tokens}t");
        Label(canvas, label, new Point(at.X + (int)(4 * unit), at.Bottom + (int)(18 * unit)), fontScale, Scalar.White, thickness);
        return new Rect(at.X, at.Y, at.Width, at.Height + (int)(24 * unit));
    }

    private static void Label(Mat canvas, string text, Point at, double scale, Scalar color, int thickness)
    {
        Cv2.PutText(canvas, text, at, HersheyFonts.HersheySimplex, scale, Scalar.Black, thickness + 2, LineTypes.AntiAlias);
        Cv2.PutText(canvas, text, at, HersheyFonts.HersheySimplex, scale, color, thickness, LineTypes.AntiAlias);
    }

    private static Scalar Palette(int i) => (i % 6) switch
    {
        0 => new Scalar(60, 220, 60),
        1 => new Scalar(40, 160, 255),
        2 => new Scalar(255, 120, 40),
        3 => new Scalar(220, 60, 220),
        4 => new Scalar(40, 220, 220),
        _ => new Scalar(80, 80, 255),
    };
}
