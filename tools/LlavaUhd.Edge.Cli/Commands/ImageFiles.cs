using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>Reading and writing image files through OpenCV, with errors that name the file.</summary>
internal static class ImageFiles
{
    public static Mat ReadBgr(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"image '{path}' does not exist");
        }

        if (new FileInfo(path).Length == 0)
        {
            throw new CliException($"image '{path}' is empty (0 bytes)");
        }

        Mat image = Cv2.ImRead(path, ImreadModes.Color);
        if (image.Empty())
        {
            image.Dispose();
            throw new CliException($"image '{path}' could not be decoded: it is truncated or not an image format OpenCV reads");
        }

        return image;
    }

    public static void WritePng(string path, Mat image)
    {
        if (!Cv2.HaveImageWriter(path))
        {
            throw new CliException($"cannot write '{path}': no image writer for '{Path.GetExtension(path)}' (use .png, .jpg, .bmp or .tiff)");
        }

        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        bool written;
        try
        {
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
            }

            written = Cv2.ImWrite(path, image);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OpenCVException)
        {
            throw new CliException($"cannot write '{path}': {ex.Message}");
        }

        if (!written)
        {
            throw new CliException($"could not write '{path}' (is the extension .png, and the folder writable?)");
        }
    }
}
