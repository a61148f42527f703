using System.Buffers;
using System.Runtime.InteropServices;
using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Triggers;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Service.Frames;
using OpenCvSharp;

namespace LlavaUhd.Edge.Service.Http;

/// <summary>
/// A camera's frame as a JPEG with optional overlays (docs/http.md "Snapshots"): the frame's pixels are copied out of
/// its lease (held only for the copy), then the overlays are drawn on the copy and it is encoded with OpenCV. Every
/// Mat made here is disposed once. Thread-safe: each call works on its own copy.
/// </summary>
internal sealed class SnapshotRenderer
{
    private static readonly Scalar s_zone = new(0, 215, 255);
    private static readonly Scalar s_motion = new(0, 0, 255);
    private static readonly Scalar s_region = new(0, 200, 0);
    private static readonly Scalar s_slice = new(255, 120, 0);

    private readonly FrameStore _frames;
    private readonly IReadOnlyDictionary<string, IReadOnlyList<ZoneOptions>> _zones;
    private readonly IReadOnlyDictionary<string, MotionWatcher> _motion;
    private readonly int _quality;

    /// <param name="zones">Each camera's zones (<c>Capture:Cameras:N:Zones</c>).</param>
    /// <param name="motion">The motion watchers of the cameras that have motion triggers.</param>
    public SnapshotRenderer(FrameStore frames, IReadOnlyDictionary<string, IReadOnlyList<ZoneOptions>> zones, IReadOnlyDictionary<string, MotionWatcher> motion, int quality = 85)
    {
        _frames = frames;
        _zones = zones;
        _motion = motion;
        _quality = quality;
    }

    /// <summary>Parses <c>roi,slices</c> (case-insensitive, either or both, empty = none); false with the unknown name.</summary>
    public static bool TryParseOverlays(string? text, out SnapshotOverlays overlays, out string? unknown)
    {
        overlays = SnapshotOverlays.None;
        unknown = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (string.Equals(part, "roi", StringComparison.OrdinalIgnoreCase))
            {
                overlays |= SnapshotOverlays.Roi;
            }
            else if (string.Equals(part, "slices", StringComparison.OrdinalIgnoreCase))
            {
                overlays |= SnapshotOverlays.Slices;
            }
            else
            {
                unknown = part;
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The camera's frame as JPEG: the latest when <paramref name="sequence"/> is null, else the answered frame
    /// <paramref name="sequence"/> while the frame history still holds it (else the latest, unless
    /// <paramref name="exact"/>: then <see cref="SnapshotStatus.UnknownFrame"/>).
    /// </summary>
    public SnapshotStatus TryRender(string camera, SnapshotOverlays overlays, long? sequence, out byte[]? jpeg, bool exact = false)
    {
        jpeg = null;
        if (!_frames.TryGet(camera, out CameraFrames? frames))
        {
            return SnapshotStatus.UnknownCamera;
        }

        using Mat? image = Copy(frames!, sequence, exact);
        if (image is null)
        {
            return sequence is not null && exact ? SnapshotStatus.UnknownFrame : SnapshotStatus.NoFrame;
        }

        if (overlays.HasFlag(SnapshotOverlays.Roi))
        {
            DrawRoi(image, camera);
        }

        if (overlays.HasFlag(SnapshotOverlays.Slices) && frames!.LastAnswer is { } answered)
        {
            DrawSlices(image, answered);
        }

        Cv2.ImEncode(".jpg", image, out jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, _quality));
        return SnapshotStatus.Ok;
    }

    /// <summary>A BGR copy of the frame; the lease is released before this returns.</summary>
    private static Mat? Copy(CameraFrames frames, long? sequence, bool exact)
    {
        FrameLease? answered = sequence is { } s ? frames.TryAnswered(s) : null;
        using FrameLease? lease = answered ?? (exact && sequence is not null ? null : frames.TryLatest());
        if (lease is null)
        {
            return null;
        }

        ImageView view = lease.Frame.Pixels;
        int rowBytes = view.Width * ImageView.BytesPerPixel;
        var copy = new Mat(view.Height, view.Width, MatType.CV_8UC3);
        byte[] row = ArrayPool<byte>.Shared.Rent(rowBytes);
        try
        {
            for (int y = 0; y < view.Height; y++)
            {
                view.Row(y).CopyTo(row);
                Marshal.Copy(row, 0, copy.Ptr(y), rowBytes);
            }

            if (view.Format == PixelFormat.Rgb24)
            {
                Cv2.CvtColor(copy, copy, ColorConversionCodes.RGB2BGR);
            }

            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(row);
        }
    }

    /// <summary>Line width: 2 px up to 480 rows (JPEG's halved chroma keeps the colour of a 2-px line), more on larger frames.</summary>
    private static int Thickness(Mat image) => Math.Max(2, Math.Min(image.Width, image.Height) / 240);

    private void DrawRoi(Mat image, string camera)
    {
        int thickness = Thickness(image);
        if (_zones.TryGetValue(camera, out IReadOnlyList<ZoneOptions>? zones))
        {
            foreach (ZoneOptions zone in zones)
            {
                Point[] points = [.. zone.Points().Select(p => new Point(
                    Math.Clamp((int)Math.Round(p.X * image.Width), 0, image.Width - 1),
                    Math.Clamp((int)Math.Round(p.Y * image.Height), 0, image.Height - 1)))];
                if (points.Length < 2)
                {
                    continue;
                }

                Cv2.Polylines(image, [points], isClosed: true, s_zone, thickness);
                Cv2.PutText(image, zone.Name, new Point(points[0].X + 3, points[0].Y + 14), HersheyFonts.HersheySimplex, 0.45, s_zone, 1);
            }
        }

        if (_motion.TryGetValue(camera, out MotionWatcher? watcher) && watcher.TryGetLastMotion(out PixelRect box, out _))
        {
            Cv2.Rectangle(image, ToRect(box, image), s_motion, thickness);
        }
    }

    private static void DrawSlices(Mat image, AnsweredPlan answered)
    {
        int thickness = Thickness(image);
        PixelRect roi = answered.Roi;
        foreach (SliceView view in answered.Plan.Slices)
        {
            // Footprint is in the region's pixels; the region sits at roi in the frame.
            PixelRect f = view.Footprint;
            Cv2.Rectangle(image, ToRect(new PixelRect(roi.X + f.X, roi.Y + f.Y, f.Width, f.Height), image), s_slice, thickness);
        }

        Cv2.Rectangle(image, ToRect(roi, image), s_region, thickness + 1);
    }

    private static Rect ToRect(PixelRect r, Mat image)
    {
        int x = Math.Clamp(r.X, 0, image.Width - 1), y = Math.Clamp(r.Y, 0, image.Height - 1);
        return new Rect(x, y, Math.Clamp(r.Width, 1, image.Width - x), Math.Clamp(r.Height, 1, image.Height - y));
    }
}
