using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>
/// A source that tries a first decoder and, when it cannot open the source, a second one (video files: OpenCV reads
/// MJPEG AVI itself; H.264/H.265 files need ffmpeg in the portable OpenCV runtime). The choice holds for this
/// instance's reopenings; the supervisor makes a new source for every reconnect, which chooses again.
/// </summary>
internal sealed class FirstToOpenSource : ICameraSource
{
    private readonly ICameraSource _first;
    private readonly Func<ICameraSource> _second;
    private readonly Func<bool> _worthTrying;
    private ICameraSource? _active;
    private ICameraSource? _fallback;

    /// <param name="worthTrying">Whether the second decoder could open what the first could not.</param>
    public FirstToOpenSource(ICameraSource first, Func<ICameraSource> second, Func<bool> worthTrying)
    {
        _first = first;
        _second = second;
        _worthTrying = worthTrying;
    }

    public string Description => (_active ?? _first).Description;

    public bool IsFinite => (_active ?? _first).IsFinite;

    public string? LastError => _active?.LastError;

    public void Open()
    {
        if (_active is not null)
        {
            _active.Open();
            return;
        }

        try
        {
            _first.Open();
            _active = _first;
        }
        catch (Errors.CameraException first) when (_worthTrying())
        {
            _fallback = _second();
            try
            {
                _fallback.Open();
            }
            catch (Errors.CameraException second)
            {
                throw new Errors.CameraException($"{first.Message} With {_fallback.Description}: {second.Message}");
            }

            _first.Dispose();
            _active = _fallback;
        }
    }

    public bool Read(Mat destination) =>
        (_active ?? throw new InvalidOperationException($"{Description}: Read before Open.")).Read(destination);

    public void Dispose()
    {
        _first.Dispose();
        _fallback?.Dispose();
    }
}
