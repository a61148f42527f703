namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>The byte order of a 3-channel, 8-bit pixel.</summary>
public enum PixelFormat
{
    /// <summary>Blue, green, red: OpenCV's order.</summary>
    Bgr24,

    /// <summary>Red, green, blue: Pillow's and the models' order.</summary>
    Rgb24,
}
