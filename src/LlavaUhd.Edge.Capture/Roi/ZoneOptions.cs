using System.Globalization;

namespace LlavaUhd.Edge.Capture.Roi;

/// <summary>
/// A static zone in normalised coordinates (0..1 of the frame's width and height): either a rectangle
/// <c>[x, y, w, h]</c> or a polygon <c>[[x, y], …]</c> of at least 3 points. A polygon's crop is its bounding box at
/// native resolution; with <see cref="MaskOutside"/> the region carries a mask of the polygon.
/// </summary>
public sealed class ZoneOptions
{
    public string Name { get; set; } = "";

    /// <summary>x, y, width, height, normalised.</summary>
    public IList<double>? Rect { get; set; }

    /// <summary>Points [x, y], normalised.</summary>
    public IList<IList<double>>? Polygon { get; set; }

    /// <summary>Attach a mask so the pixel path can blank what lies outside the polygon.</summary>
    public bool MaskOutside { get; set; }

    public static ZoneOptions FromRect(string name, double x, double y, double width, double height) =>
        new() { Name = name, Rect = [x, y, width, height] };

    public static ZoneOptions FromPolygon(string name, bool maskOutside, params (double X, double Y)[] points) =>
        new() { Name = name, Polygon = points.Select(p => (IList<double>)[p.X, p.Y]).ToList(), MaskOutside = maskOutside };

    /// <summary>The zone's points (4 corners for a rectangle), normalised.</summary>
    public IReadOnlyList<(double X, double Y)> Points()
    {
        if (Rect is { Count: 4 } r)
        {
            return [(r[0], r[1]), (r[0] + r[2], r[1]), (r[0] + r[2], r[1] + r[3]), (r[0], r[1] + r[3])];
        }

        return Polygon?.Select(p => (p[0], p[1])).ToList() ?? [];
    }

    public bool IsPolygon => Polygon is not null;

    internal void Validate(string path, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            problems.Add($"{path}: Name is required.");
        }
        else
        {
            path = $"{path} ({Name})";
        }

        if ((Rect is null) == (Polygon is null))
        {
            problems.Add($"{path}: set exactly one of Rect [x, y, w, h] or Polygon [[x, y], …].");
            return;
        }

        if (Rect is not null)
        {
            if (Rect.Count != 4)
            {
                problems.Add(Invariant($"{path}: Rect needs 4 numbers [x, y, w, h]; got {Rect.Count}."));
                return;
            }

            double x = Rect[0], y = Rect[1], w = Rect[2], h = Rect[3];
            if (Rect.Any(v => double.IsNaN(v) || v < 0 || v > 1))
            {
                problems.Add(Invariant($"{path}: Rect values must be normalised to [0, 1]; got [{x}, {y}, {w}, {h}]."));
            }
            else if (w <= 0 || h <= 0)
            {
                problems.Add(Invariant($"{path}: Rect has zero size ({w} x {h})."));
            }
            else if (x + w > 1 + 1e-9 || y + h > 1 + 1e-9)
            {
                problems.Add(Invariant($"{path}: Rect [{x}, {y}, {w}, {h}] reaches outside the frame (x + w and y + h must be <= 1)."));
            }

            return;
        }

        if (Polygon!.Count < 3)
        {
            problems.Add(Invariant($"{path}: Polygon needs at least 3 points; got {Polygon.Count}."));
            return;
        }

        for (int i = 0; i < Polygon.Count; i++)
        {
            IList<double>? p = Polygon[i];
            if (p is null || p.Count != 2)
            {
                problems.Add(Invariant($"{path}: Polygon[{i}] must be a point [x, y]."));
                return;
            }

            if (double.IsNaN(p[0]) || double.IsNaN(p[1]) || p[0] < 0 || p[0] > 1 || p[1] < 0 || p[1] > 1)
            {
                problems.Add(Invariant($"{path}: Polygon[{i}] = [{p[0]}, {p[1]}] is outside [0, 1]."));
            }
        }

        double area = 0;
        for (int i = 0; i < Polygon.Count; i++)
        {
            IList<double> a = Polygon[i], b = Polygon[(i + 1) % Polygon.Count];
            area += (a[0] * b[1]) - (b[0] * a[1]);
        }

        if (Math.Abs(area) / 2 < 1e-9)
        {
            problems.Add($"{path}: Polygon has zero area (its points are on one line).");
        }
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
