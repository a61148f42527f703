using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Roi;

/// <summary>
/// Chooses the regions of a frame to hand to the pixel path: one per static zone, one per motion box, or the whole
/// frame when neither is configured. Every region is a view of the frame (no copy). One selector per camera.
/// </summary>
public sealed class RoiSelector : IDisposable
{
    private readonly List<PixelRect> _motionBoxes = new(64);

    public RoiSelector(ZoneSet zones, MotionDetector? motion)
    {
        ArgumentNullException.ThrowIfNull(zones);
        Zones = zones;
        Motion = motion;
    }

    /// <summary>A selector built from a camera's <see cref="CameraOptions.Zones"/> and <see cref="CameraOptions.Motion"/>.</summary>
    public static RoiSelector FromOptions(CameraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RoiSelector(new ZoneSet(options.Zones), options.Motion is null ? null : new MotionDetector(options.Motion));
    }

    public ZoneSet Zones { get; }

    public MotionDetector? Motion { get; }

    /// <summary>The motion boxes of the last <see cref="Select"/> call, in native pixels.</summary>
    public IReadOnlyList<PixelRect> LastMotionBoxes => _motionBoxes;

    /// <summary>
    /// Clears <paramref name="output"/> and fills it with the regions of <paramref name="frame"/>: zones first, then
    /// motion boxes. <paramref name="image"/> is the frame's OpenCV image (defaults to the pooled Mat behind frames
    /// grabbed by <see cref="CameraSupervisor"/>); it is only needed for motion detection.
    /// </summary>
    public void Select(Frame frame, List<Region> output, Mat? image = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(output);
        output.Clear();
        _motionBoxes.Clear();
        Zones.Select(frame, output);
        if (Motion is not null)
        {
            image ??= frame.TryGetMat()
                ?? throw new ArgumentException("Motion detection needs the frame's Mat; pass it as image.", nameof(image));
            Motion.Detect(image, frame.Timestamp, _motionBoxes);
            foreach (PixelRect box in _motionBoxes)
            {
                output.Add(frame.Crop(box, RegionReason.Motion));
            }
        }

        if (Zones.Count == 0 && Motion is null)
        {
            output.Add(frame.Crop(PixelRect.FromSize(frame.Pixels.Size), RegionReason.Full));
        }
    }

    public void Dispose() => Motion?.Dispose();
}
