using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>One camera as the service runs it: enabled flag, zones, its standing questions (the first is the primary one the MQTT settings change).</summary>
internal sealed class CameraRuntime
{
    private readonly Lock _lock = new();
    private readonly List<StandingQuestion> _questions = [];
    private readonly ZoneSet _zones;
    private readonly Dictionary<string, ZoneOptions> _zoneByName;
    private bool _enabled = true;

    public CameraRuntime(CameraOptions options)
    {
        Id = options.Id;
        _zones = new ZoneSet(options.Zones);
        _zoneByName = options.Zones.Where(z => z is not null).ToDictionary(z => z.Name, StringComparer.Ordinal);
    }

    public string Id { get; }

    public bool Enabled
    {
        get { lock (_lock) { return _enabled; } }
        set { lock (_lock) { _enabled = value; } }
    }

    public IReadOnlyList<StandingQuestion> Questions
    {
        get { lock (_lock) { return [.. _questions]; } }
    }

    public StandingQuestion? Primary
    {
        get { lock (_lock) { return _questions.Count > 0 ? _questions[0] : null; } }
    }

    public void Add(StandingQuestion question)
    {
        lock (_lock)
        {
            _questions.Add(question);
        }
    }

    public int ZoneCount => _zones.Count;

    /// <summary>The region of <paramref name="question"/> in a frame of <paramref name="size"/>, clipped to it; null when it lies outside.</summary>
    public PixelRect? RegionOf(StandingQuestion question, PixelSize size)
    {
        if (question.Zone is not null && _zoneByName.TryGetValue(question.Zone, out ZoneOptions? zone))
        {
            return ZoneSet.ToPixels(zone, size);
        }

        return Clip(question.Roi, size);
    }

    /// <summary><paramref name="roi"/> clipped to the frame (the whole frame when null); null when nothing is left.</summary>
    public static PixelRect? Clip(PixelRect? roi, PixelSize size)
    {
        if (roi is not { } r)
        {
            return new PixelRect(0, 0, size.Width, size.Height);
        }

        int x0 = Math.Max(0, r.X), y0 = Math.Max(0, r.Y);
        int x1 = Math.Min(size.Width, r.X + r.Width), y1 = Math.Min(size.Height, r.Y + r.Height);
        return x1 > x0 && y1 > y0 ? new PixelRect(x0, y0, x1 - x0, y1 - y0) : null;
    }
}
