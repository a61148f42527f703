using System.Globalization;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>
/// A generated pattern: a fixed textured background with a white square that moves left to right and wraps
/// around. Source string "testpattern" (640x480) or "testpattern:WxH"; Width/Height options override it. The
/// square's box in frame <c>n</c> is <see cref="SquareAt"/>, so tests know where motion is. Rendering reuses the
/// destination's buffer (no allocation per frame).
/// </summary>
public sealed class TestPatternSource : ICameraSource
{
    private readonly CameraOptions _options;
    private readonly Size _size;
    private Mat? _background;
    private long _frame;
    private long _lastTicks;

    public TestPatternSource(CameraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        if (!TryParse(options.Source, out Size parsed, out string? error))
        {
            throw new ArgumentException(error, nameof(options));
        }

        _size = options.Width > 0 ? new Size(options.Width, options.Height) : parsed;
        Description = string.Create(CultureInfo.InvariantCulture, $"TestPattern {_size.Width}x{_size.Height}");
    }

    public string Description { get; }

    public bool IsFinite => false;

    public static bool TryParse(string source, out Size size, out string? error)
    {
        size = new Size(640, 480);
        error = null;
        string s = source.Trim();
        int colon = s.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return true;
        }

        string[] parts = s[(colon + 1)..].Split('x', 'X');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h)
            && w is >= 16 and <= 16384 && h is >= 16 and <= 16384)
        {
            size = new Size(w, h);
            return true;
        }

        error = $"test pattern '{source}' must be 'testpattern' or 'testpattern:WxH' with sides 16..16384.";
        return false;
    }

    /// <summary>The square's side: an eighth of the frame's height.</summary>
    public static int SquareSide(Size size) => Math.Max(4, size.Height / 8);

    /// <summary>Where the square is in frame <paramref name="frame"/> (x, y, side, side).</summary>
    public static Rect SquareAt(Size size, long frame)
    {
        int side = SquareSide(size);
        int step = Math.Max(1, size.Width / 60);
        int travel = size.Width - side;
        int x = (int)(frame * step % Math.Max(1, travel));
        return new Rect(x, (size.Height - side) / 2, side, side);
    }

    public void Open()
    {
        _frame = 0;
        if (_background is null)
        {
            _background = new Mat(_size, MatType.CV_8UC3);
            for (int y = 0; y < _size.Height; y += 16)
            {
                for (int x = 0; x < _size.Width; x += 16)
                {
                    byte v = (byte)(40 + ((((x / 16) + (y / 16)) % 2) * 30));
                    Cv2.Rectangle(_background, new Rect(x, y, 16, 16), new Scalar(v, v + 10, v + 20), -1);
                }
            }
        }
    }

    public bool Read(Mat destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (_background is null)
        {
            throw new InvalidOperationException("Read before Open.");
        }

        Pace.Wait(_options.Fps, ref _lastTicks);
        _background.CopyTo(destination);
        Cv2.Rectangle(destination, SquareAt(_size, _frame++), Scalar.White, -1);
        return true;
    }

    public void Dispose()
    {
        _background?.Dispose();
        _background = null;
    }
}
