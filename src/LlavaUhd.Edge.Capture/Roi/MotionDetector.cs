using LlavaUhd.Edge.Capture.Errors;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;
using OpenCvSharp.Internal;

namespace LlavaUhd.Edge.Capture.Roi;

/// <summary>
/// Finds moving regions. Each frame is downscaled to <see cref="MotionOptions.ProcessWidth"/> and turned grey, the
/// foreground is found by MOG2 or by differencing with the previous frame, then connected components give boxes.
/// Boxes smaller than the minimum area are dropped, nearby boxes merged, the largest <see cref="MotionOptions.MaxRegions"/>
/// kept, and each is mapped back to native pixels with padding, so no detail is lost before slicing.
/// All working images are allocated on the first frame and reused; a frame of a new size re-creates them.
/// In steady state a frame allocates no managed memory: OpenCV is called through <see cref="NativeMethods"/> with
/// native array proxies created once per working Mat (<see cref="NativeArrays"/>) and kept for the last few input
/// frame Mats (a camera's pooled buffers come round again), instead of <c>Cv2</c>'s per-call
/// <see cref="InputArray"/>/<see cref="OutputArray"/> wrappers (104 B each, 1768 B per MOG2 frame).
/// Not thread-safe: one detector per camera.
/// </summary>
public sealed class MotionDetector : IDisposable
{
    private const int MaxComponents = 256;

    /// <summary>Input proxies kept for recently seen frame Mats (a camera's buffer pool holds a few).</summary>
    private const int CachedInputs = 8;

    private static readonly Point DefaultAnchor = new(-1, -1);

    private readonly MotionOptions _options;
    private readonly Mat _small = new();
    private readonly Mat _gray = new();
    private readonly Mat _previous = new();
    private readonly Mat _foreground = new();
    private readonly Mat _labels = new();
    private readonly Mat _stats = new();
    private readonly Mat _centroids = new();
    private readonly Mat _kernel;
    private readonly NativeArrays _smallA, _grayA, _previousA, _foregroundA, _labelsA, _statsA, _centroidsA, _kernelA;
    private readonly NativeArrays?[] _inputs = new NativeArrays?[CachedInputs];
    private readonly Scalar _dilateBorder = Cv2.MorphologyDefaultBorderValue();
    private int _nextInput;
    private readonly List<PixelRect> _boxes = new(MaxComponents);
    private readonly List<PixelRect> _held = new(64);
    private BackgroundSubtractorMOG2? _mog2;
    private PixelSize _frameSize;
    private DateTimeOffset _lastMotion;
    private bool _hasPrevious;

    public MotionDetector(MotionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new CaptureConfigurationException(problems);
        }

        _options = options;
        _kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(3, 3));
        _smallA = new NativeArrays(_small);
        _grayA = new NativeArrays(_gray);
        _previousA = new NativeArrays(_previous);
        _foregroundA = new NativeArrays(_foreground);
        _labelsA = new NativeArrays(_labels);
        _statsA = new NativeArrays(_stats);
        _centroidsA = new NativeArrays(_centroids);
        _kernelA = new NativeArrays(_kernel, output: false);
    }

    public MotionOptions Options => _options;

    /// <summary>Frames seen since the detector was created or its size changed.</summary>
    public long FramesSeen { get; private set; }

    /// <summary>
    /// Adds the motion boxes of <paramref name="frame"/> (BGR, 8-bit) to <paramref name="output"/> in native pixels,
    /// largest first. The first frame of a size only primes the background and yields nothing.
    /// </summary>
    public void Detect(Mat frame, DateTimeOffset timestamp, List<PixelRect> output)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(output);
        if (frame.Empty() || frame.Type() != MatType.CV_8UC3)
        {
            throw new ArgumentException($"Motion detection needs a non-empty 8-bit BGR frame; got {frame.Type()} {frame.Width}x{frame.Height}.", nameof(frame));
        }

        var size = new PixelSize(frame.Width, frame.Height);
        if (size != _frameSize)
        {
            Reset(size);
        }

        int pw = Math.Min(_options.ProcessWidth, size.Width);
        int ph = Math.Max(1, (int)Math.Round((double)size.Height * pw / size.Width));
        // The calls below are Cv2.Resize, CvtColor, GaussianBlur, MOG2 Apply, Threshold, Absdiff, CopyTo, Dilate and
        // ConnectedComponentsWithStats with their default arguments, made on the pre-created proxies.
        NativeMethods.HandleException(NativeMethods.imgproc_resize(InputOf(frame), _smallA.Out, new Size(pw, ph), 0, 0, (int)InterpolationFlags.Area));
        NativeMethods.HandleException(NativeMethods.imgproc_cvtColor(_smallA.In, _grayA.Out, (int)ColorConversionCodes.BGR2GRAY, 0));
        NativeMethods.HandleException(NativeMethods.imgproc_GaussianBlur(_grayA.In, _grayA.Out, new Size(5, 5), 0, 0, BorderTypes.Reflect101));

        bool ready;
        if (_options.Method == MotionMethod.Mog2)
        {
            // A fixed rate of 1/History (not OpenCV's default 1/frames seen, which is fast at start-up and absorbs a
            // slow object into the background within a few frames); the first frame initialises the model.
            NativeMethods.HandleException(NativeMethods.video_BackgroundSubtractor_apply(_mog2!.RawPtr, _grayA.In, _foregroundA.Out, FramesSeen == 0 ? 1 : 1.0 / _options.History));
            Threshold(200); // 127 marks shadows: not motion
            ready = FramesSeen > 0;
        }
        else
        {
            ready = _hasPrevious;
            if (ready)
            {
                NativeMethods.HandleException(NativeMethods.core_absdiff(_grayA.In, _previousA.In, _foregroundA.Out));
                Threshold(_options.Threshold);
            }

            NativeMethods.HandleException(NativeMethods.core_InputArray_copyTo1(_grayA.In, _previousA.Out));
            _hasPrevious = true;
        }

        FramesSeen++;
        _boxes.Clear();
        if (ready)
        {
            NativeMethods.HandleException(NativeMethods.imgproc_dilate(_foregroundA.In, _foregroundA.Out, _kernelA.In, DefaultAnchor, 2, (int)BorderTypes.Constant, _dilateBorder));
            FindBoxes(pw, ph);
        }

        int start = output.Count;
        if (_boxes.Count > 0)
        {
            MapToNative(pw, size, output);
            _held.Clear();
            for (int i = start; i < output.Count; i++)
            {
                _held.Add(output[i]);
            }

            _lastMotion = timestamp;
        }
        else if (_held.Count > 0 && (timestamp - _lastMotion).TotalMilliseconds < _options.CooldownMs)
        {
            output.AddRange(_held);
        }
        else
        {
            _held.Clear();
        }

        GC.KeepAlive(this); // the native calls above use Mats this detector owns
        GC.KeepAlive(_mog2);
    }

    private void Threshold(double threshold) =>
        NativeMethods.HandleException(NativeMethods.imgproc_threshold(_foregroundA.In, _foregroundA.Out, threshold, 255, (int)ThresholdTypes.Binary, out _));

    private void FindBoxes(int pw, int ph)
    {
        NativeMethods.HandleException(NativeMethods.imgproc_connectedComponentsWithStats(
            _foregroundA.In, _labelsA.Out, _statsA.Out, _centroidsA.Out, (int)PixelConnectivity.Connectivity8, MatType.CV_32S, out int count));
        double minArea = _options.MinAreaFraction * pw * ph;
        for (int i = 1; i < count && _boxes.Count < MaxComponents; i++) // label 0 is the background
        {
            int area = _stats.At<int>(i, (int)ConnectedComponentsTypes.Area);
            if (area < minArea || area == 0)
            {
                continue;
            }

            _boxes.Add(new PixelRect(
                _stats.At<int>(i, (int)ConnectedComponentsTypes.Left),
                _stats.At<int>(i, (int)ConnectedComponentsTypes.Top),
                _stats.At<int>(i, (int)ConnectedComponentsTypes.Width),
                _stats.At<int>(i, (int)ConnectedComponentsTypes.Height)));
        }

        MergeNearby(_boxes, (int)Math.Round(_options.MergeDistanceFraction * pw));
        _boxes.Sort(static (a, b) => b.Size.Area.CompareTo(a.Size.Area));
        if (_boxes.Count > _options.MaxRegions)
        {
            _boxes.RemoveRange(_options.MaxRegions, _boxes.Count - _options.MaxRegions);
        }
    }

    private void MapToNative(int pw, PixelSize size, List<PixelRect> output)
    {
        double scale = (double)size.Width / pw;
        int pad = (int)Math.Round(_options.PaddingFraction * size.Width);
        foreach (PixelRect b in _boxes)
        {
            int x0 = Math.Max(0, (int)Math.Floor(b.X * scale) - pad);
            int y0 = Math.Max(0, (int)Math.Floor(b.Y * scale) - pad);
            int x1 = Math.Min(size.Width, (int)Math.Ceiling(b.Right * scale) + pad);
            int y1 = Math.Min(size.Height, (int)Math.Ceiling(b.Bottom * scale) + pad);
            if (x1 > x0 && y1 > y0)
            {
                output.Add(new PixelRect(x0, y0, x1 - x0, y1 - y0));
            }
        }
    }

    /// <summary>Merges boxes whose gap (horizontal and vertical) is at most <paramref name="distance"/>, until none are that close.</summary>
    internal static void MergeNearby(List<PixelRect> boxes, int distance)
    {
        bool merged = true;
        while (merged)
        {
            merged = false;
            for (int i = 0; i < boxes.Count && !merged; i++)
            {
                for (int j = i + 1; j < boxes.Count; j++)
                {
                    PixelRect a = boxes[i], b = boxes[j];
                    int gapX = Math.Max(a.X, b.X) - Math.Min(a.Right, b.Right);
                    int gapY = Math.Max(a.Y, b.Y) - Math.Min(a.Bottom, b.Bottom);
                    if (gapX <= distance && gapY <= distance)
                    {
                        int x = Math.Min(a.X, b.X), y = Math.Min(a.Y, b.Y);
                        boxes[i] = new PixelRect(x, y, Math.Max(a.Right, b.Right) - x, Math.Max(a.Bottom, b.Bottom) - y);
                        boxes.RemoveAt(j);
                        merged = true;
                        break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The input proxy of <paramref name="frame"/>: reused while the same Mat comes back (a reused or pooled frame
    /// buffer), otherwise created in place of the oldest of <see cref="CachedInputs"/>.
    /// </summary>
    private IntPtr InputOf(Mat frame)
    {
        foreach (NativeArrays? cached in _inputs)
        {
            if (cached is not null && ReferenceEquals(cached.Mat, frame))
            {
                return cached.In;
            }
        }

        int slot = _nextInput;
        _nextInput = (slot + 1) % CachedInputs;
        _inputs[slot]?.Dispose();
        var arrays = new NativeArrays(frame, output: false);
        _inputs[slot] = arrays;
        return arrays.In;
    }

    private void Reset(PixelSize size)
    {
        _frameSize = size;
        FramesSeen = 0;
        _hasPrevious = false;
        _held.Clear();
        _mog2?.Dispose();
        _mog2 = _options.Method == MotionMethod.Mog2
            ? BackgroundSubtractorMOG2.Create(_options.History, _options.Threshold, detectShadows: true)
            : null;
    }

    public void Dispose()
    {
        _mog2?.Dispose();
        foreach (NativeArrays? input in _inputs)
        {
            input?.Dispose();
        }

        _smallA.Dispose();
        _grayA.Dispose();
        _previousA.Dispose();
        _foregroundA.Dispose();
        _labelsA.Dispose();
        _statsA.Dispose();
        _centroidsA.Dispose();
        _kernelA.Dispose();
        _small.Dispose();
        _gray.Dispose();
        _previous.Dispose();
        _foreground.Dispose();
        _labels.Dispose();
        _stats.Dispose();
        _centroids.Dispose();
        _kernel.Dispose();
    }
}
