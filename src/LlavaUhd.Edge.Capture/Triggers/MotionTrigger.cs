using System.Globalization;
using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>
/// Fires when the regions of a frame contain motion (overlapping the configured zone, if any), at most once per
/// cooldown measured on frame timestamps. Feed it with <see cref="Observe"/> after ROI selection.
/// </summary>
public sealed class MotionTrigger : Trigger
{
    private readonly MotionTriggerOptions _options;
    private readonly ZoneOptions? _zone;
    private DateTimeOffset? _lastFired;

    /// <param name="zones">The camera's zones; <see cref="MotionTriggerOptions.Zone"/> must name one of them.</param>
    public MotionTrigger(MotionTriggerOptions options, IEnumerable<ZoneOptions>? zones = null, TimeProvider? timeProvider = null)
        : base(Checked(options).Name, options.CameraId, timeProvider)
    {
        _options = options;
        if (!string.IsNullOrEmpty(options.Zone))
        {
            _zone = zones?.FirstOrDefault(z => z.Name == options.Zone)
                ?? throw new Errors.CaptureConfigurationException($"{nameof(MotionTrigger)} ({options.Name}): zone '{options.Zone}' is not one of the camera's zones.");
        }
    }

    public override TriggerKind Kind => TriggerKind.Motion;

    /// <summary>Looks at one frame's regions; returns the event when the trigger fired.</summary>
    public TriggerEvent? Observe(Frame frame, IReadOnlyList<Region> regions)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(regions);
        PixelRect? zone = _zone is null ? null : ZoneSet.ToPixels(_zone, frame.Pixels.Size);
        PixelRect? hit = null;
        foreach (Region region in regions)
        {
            if (region.Reason == RegionReason.Motion && (zone is null || !zone.Value.Intersect(region.Rect).IsEmpty))
            {
                hit = region.Rect;
                break;
            }
        }

        if (hit is null || (_lastFired is { } last && (frame.Timestamp - last).TotalMilliseconds < _options.CooldownMs))
        {
            return null;
        }

        _lastFired = frame.Timestamp;
        string where = _zone is null ? "" : $" in zone {_zone.Name}";
        return Raise(string.Create(CultureInfo.InvariantCulture, $"motion{where} at {hit.Value} (frame {frame.Sequence})"), cameraId: frame.CameraId, roi: hit);
    }

    private static MotionTriggerOptions Checked(MotionTriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TriggerOptions.ThrowIfInvalid(options.Validate, nameof(MotionTrigger));
        return options;
    }
}
