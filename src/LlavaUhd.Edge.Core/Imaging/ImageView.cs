using System.Globalization;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>
/// A read-only view of 8-bit, 3-channel pixels with a row stride: a whole frame or a region of one. Cropping
/// returns another view of the same memory (no copy), like ImageSharp's <c>Buffer2DRegion</c>. The memory may be
/// managed (an array) or native (an OpenCV <c>Mat</c>, through <see cref="UnmanagedMemoryManager{T}"/>); its owner keeps it
/// alive while the view is used.
/// </summary>
public readonly struct ImageView : IEquatable<ImageView>
{
    public const int BytesPerPixel = 3;

    public ImageView(ReadOnlyMemory<byte> data, int width, int height, int stride, PixelFormat format)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ImageFormatException(string.Create(CultureInfo.InvariantCulture, $"An image must be at least 1x1 pixels; got {width}x{height}."));
        }

        if (stride < width * BytesPerPixel)
        {
            throw new ImageFormatException(string.Create(CultureInfo.InvariantCulture, $"Row stride {stride} is shorter than a row of {width} pixels ({width * BytesPerPixel} bytes)."));
        }

        long needed = ((long)stride * (height - 1)) + ((long)width * BytesPerPixel);
        if (data.Length < needed)
        {
            throw new ImageFormatException(string.Create(CultureInfo.InvariantCulture, $"A {width}x{height} image with stride {stride} needs {needed} bytes; the buffer holds {data.Length} (truncated frame?)."));
        }

        if (!Enum.IsDefined(format))
        {
            throw new ImageFormatException($"Unsupported pixel format {format}; expected Bgr24 or Rgb24.");
        }

        Data = data;
        Width = width;
        Height = height;
        Stride = stride;
        Format = format;
    }

    /// <summary>A tightly packed image (stride = width × 3).</summary>
    public static ImageView Packed(ReadOnlyMemory<byte> data, int width, int height, PixelFormat format) =>
        new(data, width, height, width * BytesPerPixel, format);

    public ReadOnlyMemory<byte> Data { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Bytes from the start of one row to the start of the next.</summary>
    public int Stride { get; }

    public PixelFormat Format { get; }

    public PixelSize Size => new(Width, Height);

    public bool IsEmpty => Width == 0;

    /// <summary>The <paramref name="y"/>-th row's pixels (width × 3 bytes).</summary>
    public ReadOnlySpan<byte> Row(int y) => Data.Span.Slice(y * Stride, Width * BytesPerPixel);

    /// <summary>A view of <paramref name="roi"/> (in this view's pixels) without copying.</summary>
    /// <exception cref="ImageFormatException">The rectangle is empty or not entirely inside the image.</exception>
    public ImageView Crop(PixelRect roi)
    {
        if (roi.Width <= 0 || roi.Height <= 0)
        {
            throw new ImageFormatException($"Region of interest {roi} has zero size.");
        }

        if (!PixelRect.FromSize(Size).Contains(roi))
        {
            throw new ImageFormatException($"Region of interest {roi} (x,y,w,h) is outside the {Width}x{Height} frame.");
        }

        int offset = (roi.Y * Stride) + (roi.X * BytesPerPixel);
        int length = ((roi.Height - 1) * Stride) + (roi.Width * BytesPerPixel);
        return new ImageView(Data.Slice(offset, length), roi.Width, roi.Height, Stride, Format);
    }

    public bool Equals(ImageView other) =>
        Data.Equals(other.Data) && Width == other.Width && Height == other.Height && Stride == other.Stride && Format == other.Format;

    public override bool Equals(object? obj) => obj is ImageView other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Width, Height, Stride, Format);

    public static bool operator ==(ImageView left, ImageView right) => left.Equals(right);

    public static bool operator !=(ImageView left, ImageView right) => !left.Equals(right);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Width}x{Height} {Format} stride {Stride}");
}
