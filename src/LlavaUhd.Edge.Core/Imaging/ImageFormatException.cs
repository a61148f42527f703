namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>A frame or buffer that cannot be used: empty, truncated, of an unsupported format, or an ROI outside it.</summary>
public sealed class ImageFormatException : Exception
{
    public ImageFormatException()
    {
    }

    public ImageFormatException(string message)
        : base(message)
    {
    }

    public ImageFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
