using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>
/// Where a camera's frames come from. <see cref="Open"/> throws <see cref="Errors.CameraException"/> with a clear
/// reason when the source cannot be opened; <see cref="Read"/> fills a caller-owned <see cref="Mat"/> (reusing its
/// buffer when the size is unchanged) and returns false at the end of the stream or when the source is lost.
/// Sources are used from one thread (the camera's grab loop).
/// </summary>
public interface ICameraSource : IDisposable
{
    /// <summary>What this source is, for states and logs (never secrets: URL credentials are stripped).</summary>
    string Description { get; }

    /// <summary>True for sources that end (files, folders); false for devices, streams and patterns.</summary>
    bool IsFinite { get; }

    void Open();

    /// <summary>Reads the next frame as 8-bit BGR into <paramref name="destination"/>.</summary>
    bool Read(Mat destination);

    /// <summary>Why the last <see cref="Read"/> returned false, when the source knows (a stall, a decoder's error); null otherwise.</summary>
    string? LastError => null;
}

/// <summary>Creates the source for a camera's options: the decoder by <see cref="CameraOptions.Decoder"/> (docs/cameras.md, "Decoders").</summary>
public static class CameraSourceFactory
{
    public static ICameraSource Create(CameraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CameraSourceKind kind = options.ResolveKind();
        switch (kind)
        {
            case CameraSourceKind.ImageFolder:
                return new ImageFolderSource(options);
            case CameraSourceKind.TestPattern:
                return new TestPatternSource(options);
        }

        return options.Decoder switch
        {
            CameraDecoder.OpenCv => new OpenCvCameraSource(options),
            CameraDecoder.FFmpeg => new ProcessCameraSource(options, DecoderCommand.FFmpeg(options)),
            CameraDecoder.GStreamer => new ProcessCameraSource(options, DecoderCommand.GStreamer(options)),
            _ => kind switch
            {
                // OpenCV's FFmpeg backend in the portable OpenCvSharp runtime cannot open URLs: a decoder process can
                CameraSourceKind.Stream when DecoderCommand.IsInstalled("ffmpeg") => new ProcessCameraSource(options, DecoderCommand.FFmpeg(options)),
                CameraSourceKind.File when DecoderCommand.IsInstalled("ffmpeg") =>
                    new FirstToOpenSource(new OpenCvCameraSource(options), () => new ProcessCameraSource(options, DecoderCommand.FFmpeg(options)),
                        () => File.Exists(options.Source.Trim())),   // a missing file is missing for ffmpeg too
                CameraSourceKind.GStreamer when !OpenCvCameraSource.HasGStreamer && options.Width > 0 && DecoderCommand.IsInstalled("gst-launch-1.0") =>
                    new ProcessCameraSource(options, DecoderCommand.GStreamer(options)),
                _ => new OpenCvCameraSource(options),
            },
        };
    }
}

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
