using LlavaUhd.Edge.Capture.Errors;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>A folder of images read in ordinal name order, one per frame; paced to <see cref="CameraOptions.Fps"/> when set.</summary>
public sealed class ImageFolderSource : ICameraSource
{
    private readonly CameraOptions _options;
    private IReadOnlyList<string> _files = [];
    private int _next;
    private long _lastTicks;

    public ImageFolderSource(CameraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Description = $"ImageFolder {options.Source}";
    }

    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"];

    public string Description { get; }

    public bool IsFinite => true;

    public static IReadOnlyList<string> ListImages(string folder) =>
        Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();

    public void Open()
    {
        if (!Directory.Exists(_options.Source))
        {
            throw new CameraException($"{Description}: the folder does not exist.");
        }

        _files = ListImages(_options.Source);
        if (_files.Count == 0)
        {
            throw new CameraException($"{Description}: the folder holds no images.");
        }

        _next = 0;
    }

    public bool Read(Mat destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (_next >= _files.Count)
        {
            if (_options.ResolveOnEnd() != EndOfStreamAction.Loop || _files.Count == 0)
            {
                return false;
            }

            _next = 0;
        }

        Pace.Wait(_options.Fps, ref _lastTicks);
        string file = _files[_next++];
        using Mat image = Cv2.ImRead(file, ImreadModes.Color);
        if (image.Empty())
        {
            throw new CameraException($"{Description}: '{Path.GetFileName(file)}' is not an image OpenCV can read.");
        }

        image.CopyTo(destination);
        return true;
    }

    public void Dispose()
    {
    }
}
