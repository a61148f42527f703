using System.Globalization;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// Parcels on a conveyor belt under a fixed factory camera, with questions a machine can answer: the demo domain.
/// Every rule (sizes, colours, code font, layout, phrasings) is in docs/scenes.md, so scenes can be rendered
/// independently. Deterministic: the same seed and size give the same pixels and questions.
/// </summary>
internal static class ParcelScenes
{
    /// <summary>Colour names and their BGR values (docs/scenes.md §2).</summary>
    public static IReadOnlyList<(string Name, Scalar Bgr)> Colors { get; } =
    [
        ("red", new Scalar(40, 40, 210)),
        ("green", new Scalar(60, 170, 50)),
        ("blue", new Scalar(210, 100, 30)),
        ("yellow", new Scalar(40, 215, 235)),
        ("orange", new Scalar(20, 130, 250)),
        ("purple", new Scalar(160, 50, 140)),
        ("white", new Scalar(240, 240, 240)),
    ];

    /// <summary>Characters of the printed codes: no look-alikes (0/O, 1/I, 2/Z, 5/S, 6/G, 8/B).</summary>
    public const string CodeAlphabet = "ACEFHKLMNPRTWXY3479";

    /// <summary>Frame sizes drawn when no size is given: 16:9, 4:3, 21:9, 1:1 and 9:16 camera resolutions.</summary>
    public static IReadOnlyList<(int Width, int Height)> CameraSizes { get; } =
        [(1280, 720), (1920, 1080), (2560, 1440), (3840, 2160), (1600, 1200), (2560, 1080), (1440, 1440), (1080, 1920)];

    public static readonly string[] CountPhrasings =
        ["How many parcels are on the belt?", "How many parcels are there?", "Count the parcels on the conveyor.", "How many boxes are on the conveyor belt?"];

    public static readonly string[] ColorSidePhrasings =
        ["What color is the parcel on the {0}?", "Which color is the {0} parcel?", "What is the color of the parcel on the {0}?"];

    public static readonly string[] ColorLargestPhrasings =
        ["What color is the largest parcel?", "Which color is the biggest parcel?", "What is the color of the largest box?"];

    public static readonly string[] PositionPhrasings =
        ["Where is the {0} parcel?", "Is the {0} parcel on the left, in the middle or on the right?", "Where on the belt is the {0} box?"];

    public static readonly string[] PresencePhrasings =
        ["Is there {0} parcel?", "Is there {0} parcel on the belt?", "Do you see {0} box?"];

    public static readonly string[] CodePhrasings =
        ["What is the code on the {0} parcel?", "Read the code on the {0} parcel.", "What code is printed on the {0} box?"];

    /// <summary>Renders scene <paramref name="index"/> of the set <paramref name="seed"/> at <paramref name="size"/> (null: drawn from <see cref="CameraSizes"/>).</summary>
    /// <param name="shiftX">Moves every parcel this many pixels along the belt (the sample video's motion); draws are unchanged.</param>
    public static ParcelScene Render(int seed, int index, (int Width, int Height)? size = null, int? parcelCount = null, int shiftX = 0)
    {
        var rng = new Random(SceneSeed(seed, index));
        (int width, int height) = size ?? CameraSizes[rng.Next(CameraSizes.Count)];
        var image = new Mat(height, width, MatType.CV_8UC3);
        double light = 0.75 + (rng.NextDouble() * 0.45);

        // Floor: a vertical gradient, brighter or darker with the lighting.
        int top = 70 + rng.Next(50), bottom = 120 + rng.Next(60);
        for (int y = 0; y < height; y++)
        {
            double v = (top + ((bottom - top) * (double)y / Math.Max(1, height - 1))) * light;
            Cv2.Line(image, new Point(0, y), new Point(width - 1, y), new Scalar(v * 0.95, v, v * 1.02));
        }

        // Belt: a dark band with slats and two rails.
        int beltH = (int)(height * (0.34 + (rng.NextDouble() * 0.06)));
        int beltY = (int)((height * (0.5 + ((rng.NextDouble() - 0.5) * 0.1))) - (beltH / 2.0));
        double beltV = (45 + rng.Next(30)) * light;
        Cv2.Rectangle(image, new Rect(0, beltY, width, beltH), new Scalar(beltV, beltV, beltV * 1.05), -1);
        int pitch = Math.Max(6, (int)(height * (0.025 + (rng.NextDouble() * 0.02))));
        int offset = rng.Next(pitch);
        double slatV = beltV * 1.35;
        int slatT = Math.Max(1, height / 400);
        for (int x = offset; x < width; x += pitch)
        {
            Cv2.Line(image, new Point(x, beltY), new Point(x, beltY + beltH - 1), new Scalar(slatV, slatV, slatV), slatT);
        }

        int rail = Math.Max(2, height / 90);
        var railColor = new Scalar(150 * light, 150 * light, 155 * light);
        Cv2.Rectangle(image, new Rect(0, beltY - rail, width, rail), railColor, -1);
        Cv2.Rectangle(image, new Rect(0, beltY + beltH, width, rail), railColor, -1);

        // Parcels: one per slot of six along the belt, centres kept clear of the thirds' boundaries, unique colours.
        int count = parcelCount ?? rng.Next(7);
        int[] slots = [.. Enumerable.Range(0, 6).OrderBy(_ => rng.Next()).Take(count).Order()];
        string[] colors = [.. Colors.Select(c => c.Name).OrderBy(_ => rng.Next()).Take(count)];
        var parcels = new List<Parcel>();
        double slotW = width / 6.0;
        for (int i = 0; i < count; i++)
        {
            int pw = (int)(slotW * (0.45 + (rng.NextDouble() * 0.4)));
            int ph = (int)(beltH * (0.35 + (rng.NextDouble() * 0.5)));
            double center = (slots[i] + 0.5 + ((rng.NextDouble() - 0.5) * 0.3)) * slotW;
            int px = Math.Clamp((int)(center - (pw / 2.0)) + shiftX, 0, width - pw);
            int py = beltY + rng.Next(Math.Max(1, beltH - ph));
            var box = new Rect(px, py, pw, ph);
            string code = new([.. Enumerable.Range(0, 2 + rng.Next(3)).Select(_ => CodeAlphabet[rng.Next(CodeAlphabet.Length)])]);
            DrawParcel(image, box, Colors.First(c => c.Name == colors[i]).Bgr, code, light, height, rng);
            parcels.Add(new Parcel(colors[i], box, code));
        }

        return new ParcelScene(image, new Rect(0, beltY, width, beltH), parcels, Questions(parcels, width, rng));
    }

    /// <summary>The seed of scene <paramref name="index"/> of set <paramref name="seed"/> (docs/scenes.md; not HashCode, which is randomised per process).</summary>
    public static int SceneSeed(int seed, int index) => unchecked((seed * 1_000_003) + (index * 7_919) + 12_345);

    /// <summary>Left, middle or right: which third of the frame the parcel's centre is in.</summary>
    public static string Third(int centerX, int width) => centerX * 3 < width ? "left" : centerX * 3 < 2 * width ? "middle" : "right";

    private static void DrawParcel(Mat image, Rect box, Scalar bgr, string code, double light, int frameHeight, Random rng)
    {
        double shade = light * (0.9 + (rng.NextDouble() * 0.2));
        var face = new Scalar(Math.Min(255, bgr.Val0 * shade), Math.Min(255, bgr.Val1 * shade), Math.Min(255, bgr.Val2 * shade));
        Cv2.Rectangle(image, box, face, -1);
        int edge = Math.Max(1, frameHeight / 300);
        Cv2.Rectangle(image, box, new Scalar(face.Val0 * 0.55, face.Val1 * 0.55, face.Val2 * 0.55), edge);
        // Tape across the top third.
        int tape = Math.Max(2, box.Height / 12);
        Cv2.Rectangle(image, new Rect(box.X, box.Y + (box.Height / 3), box.Width, tape), new Scalar(face.Val0 * 0.8, face.Val1 * 0.8, face.Val2 * 0.8), -1);

        // The label: black code on a white card, characters 1.0–2.0 % of the frame height (docs/scenes.md §3).
        double charH = frameHeight * (0.010 + (rng.NextDouble() * 0.010));
        double scale = charH / 22.0;
        int thickness = Math.Max(1, (int)Math.Round(charH / 9));
        Size text = Cv2.GetTextSize(code, HersheyFonts.HersheySimplex, scale, thickness, out int baseline);
        int pad = Math.Max(2, (int)(charH * 0.4));
        int lw = Math.Min(box.Width - 2, text.Width + (2 * pad));
        int lh = Math.Min(box.Height - 2, text.Height + baseline + (2 * pad));
        int lx = box.X + Math.Max(1, (box.Width - lw) / 2);
        int ly = box.Y + Math.Max(1, (box.Height * 3 / 5) - (lh / 2));
        Cv2.Rectangle(image, new Rect(lx, ly, lw, lh), new Scalar(245, 245, 245), -1);
        Cv2.PutText(image, code, new Point(lx + pad, ly + pad + text.Height), HersheyFonts.HersheySimplex, scale, new Scalar(15, 15, 15), thickness, LineTypes.AntiAlias);
    }

    private static List<SceneQuestion> Questions(List<Parcel> parcels, int width, Random rng)
    {
        string Pick(string[] phrasings, string? arg = null) =>
            string.Format(CultureInfo.InvariantCulture, phrasings[rng.Next(phrasings.Length)], arg);
        Rect Around(Parcel p)
        {
            // A native region: the parcel and a quarter of its size around it.
            int mx = p.Box.Width / 4, my = p.Box.Height / 4;
            return new Rect(p.Box.X - mx, p.Box.Y - my, p.Box.Width + (2 * mx), p.Box.Height + (2 * my));
        }

        var questions = new List<SceneQuestion>
        {
            new("count", Pick(CountPhrasings), parcels.Count.ToString(CultureInfo.InvariantCulture), null),
        };

        var byX = parcels.OrderBy(p => p.CenterX).ToList();
        if (byX.Count >= 2)
        {
            var options = new List<(string Side, Parcel Parcel)> { ("left", byX[0]), ("right", byX[^1]) };
            if (byX.Count % 2 == 1)
            {
                options.Add(("middle", byX[byX.Count / 2]));
            }

            var largest = parcels.OrderByDescending(p => p.Area).ToList();
            bool clearLargest = largest[0].Area >= largest[1].Area * 1.3;
            if (clearLargest && rng.Next(4) == 0)
            {
                questions.Add(new("color", Pick(ColorLargestPhrasings), largest[0].Color, null));
            }
            else
            {
                (string side, Parcel p) = options[rng.Next(options.Count)];
                questions.Add(new("color", Pick(ColorSidePhrasings, side), p.Color, null));
            }
        }

        var clear = parcels.Where(p => Math.Abs((p.CenterX * 3.0 / width) - Math.Round(p.CenterX * 3.0 / width)) > 0.1 || Math.Round(p.CenterX * 3.0 / width) is 0 or 3).ToList();
        if (clear.Count > 0)
        {
            Parcel p = clear[rng.Next(clear.Count)];
            questions.Add(new("position", Pick(PositionPhrasings, p.Color), Third(p.CenterX, width), null));
        }

        bool present = parcels.Count > 0 && (parcels.Count == Colors.Count || rng.Next(2) == 0);
        string asked = present
            ? parcels[rng.Next(parcels.Count)].Color
            : Colors.Select(c => c.Name).Where(c => parcels.All(p => p.Color != c)).OrderBy(_ => rng.Next()).First();
        questions.Add(new("presence", Pick(PresencePhrasings, (asked[0] is 'a' or 'e' or 'i' or 'o' or 'u' ? "an " : "a ") + asked), present ? "yes" : "no", null));

        if (parcels.Count > 0)
        {
            Parcel p = parcels[rng.Next(parcels.Count)];
            questions.Add(new("code", Pick(CodePhrasings, p.Color), p.Code, Around(p)));
        }

        return questions;
    }
}
