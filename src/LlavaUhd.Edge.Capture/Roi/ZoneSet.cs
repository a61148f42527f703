using LlavaUhd.Edge.Capture.Errors;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Roi;

/// <summary>
/// A camera's static zones. Normalised coordinates are mapped to native pixels once per frame size and cached, so
/// selecting zones in steady state allocates nothing beyond the regions themselves.
/// </summary>
public sealed class ZoneSet
{
    private readonly ZoneOptions[] _zones;
    private PixelSize _cachedSize;
    private ResolvedZone[] _cached = [];

    public ZoneSet(IEnumerable<ZoneOptions> zones)
    {
        ArgumentNullException.ThrowIfNull(zones);
        _zones = zones.ToArray();
        var problems = new List<string>();
        for (int i = 0; i < _zones.Length; i++)
        {
            _zones[i].Validate($"Zones[{i}]", problems);
        }

        if (problems.Count > 0)
        {
            throw new CaptureConfigurationException(problems);
        }
    }

    public static ZoneSet Empty { get; } = new([]);

    public int Count => _zones.Length;

    /// <summary>The zones in native pixels of a <paramref name="frameSize"/> frame (cached for the last size).</summary>
    public IReadOnlyList<ResolvedZone> Resolve(PixelSize frameSize) => ResolveCached(frameSize);

    private ResolvedZone[] ResolveCached(PixelSize frameSize)
    {
        if (frameSize != _cachedSize)
        {
            Rebuild(frameSize);
        }

        return _cached;
    }

    // A separate method: the lambda's closure over frameSize is allocated on entry to the method that declares it,
    // so declared in ResolveCached it would cost 24 B on every call, cache hit or not.
    private void Rebuild(PixelSize frameSize)
    {
        _cached = _zones.Select(z => Resolve(z, frameSize)).ToArray();
        _cachedSize = frameSize;
    }

    /// <summary>Adds one <see cref="RegionReason.Zone"/> region per zone, cropped from <paramref name="frame"/> without copying.</summary>
    public void Select(Frame frame, ICollection<Region> output)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(output);
        foreach (ResolvedZone zone in ResolveCached(frame.Pixels.Size)) // an array: no enumerator is allocated
        {
            output.Add(frame.Crop(zone.Rect, RegionReason.Zone, zone.Name, zone.Mask));
        }
    }

    /// <summary>Maps a normalised zone to native pixels: the bounding box of its points (at least 1×1) and its polygon.</summary>
    public static PixelRect ToPixels(ZoneOptions zone, PixelSize frameSize)
    {
        ArgumentNullException.ThrowIfNull(zone);
        IReadOnlyList<(double X, double Y)> points = zone.Points();
        double minX = points.Min(p => p.X), minY = points.Min(p => p.Y);
        double maxX = points.Max(p => p.X), maxY = points.Max(p => p.Y);
        int x0 = Math.Clamp((int)Math.Floor(minX * frameSize.Width), 0, frameSize.Width - 1);
        int y0 = Math.Clamp((int)Math.Floor(minY * frameSize.Height), 0, frameSize.Height - 1);
        int x1 = Math.Clamp((int)Math.Ceiling(maxX * frameSize.Width), x0 + 1, frameSize.Width);
        int y1 = Math.Clamp((int)Math.Ceiling(maxY * frameSize.Height), y0 + 1, frameSize.Height);
        return new PixelRect(x0, y0, x1 - x0, y1 - y0);
    }

    private static ResolvedZone Resolve(ZoneOptions zone, PixelSize size)
    {
        PixelRect rect = ToPixels(zone, size);
        Point[] polygon = zone.Points()
            .Select(p => new Point(
                Math.Clamp((int)Math.Round(p.X * size.Width), 0, size.Width - 1),
                Math.Clamp((int)Math.Round(p.Y * size.Height), 0, size.Height - 1)))
            .ToArray();
        RegionMask? mask = null;
        if (zone.MaskOutside && zone.IsPolygon)
        {
            using var m = new Mat(rect.Height, rect.Width, MatType.CV_8UC1, Scalar.All(0));
            Point[] local = polygon.Select(p => new Point(p.X - rect.X, p.Y - rect.Y)).ToArray();
            Cv2.FillPoly(m, [local], Scalar.All(255));
            m.GetArray(out byte[] data);
            mask = new RegionMask(data, rect.Width, rect.Height);
        }

        return new ResolvedZone(zone.Name, rect, polygon, mask);
    }
}
