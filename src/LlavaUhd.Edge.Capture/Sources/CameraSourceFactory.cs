namespace LlavaUhd.Edge.Capture.Sources;

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
