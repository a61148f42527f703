using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

public sealed class ImageViewTests
{
    private static ImageView Gradient(int w, int h, int padding = 0)
    {
        int stride = (w * 3) + padding;
        byte[] data = new byte[stride * h];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                data[(y * stride) + (x * 3)] = (byte)x;
                data[(y * stride) + (x * 3) + 1] = (byte)y;
                data[(y * stride) + (x * 3) + 2] = (byte)(x + y);
            }
        }

        return new ImageView(data, w, h, stride, PixelFormat.Bgr24);
    }

    [Fact]
    public void Crop_IsAViewOfTheSameMemory()
    {
        ImageView frame = Gradient(40, 30, padding: 5);
        ImageView roi = frame.Crop(new PixelRect(10, 7, 12, 9));

        Assert.Equal(new PixelSize(12, 9), roi.Size);
        Assert.Equal(frame.Stride, roi.Stride);
        Assert.Equal(10, roi.Row(0)[0]);
        Assert.Equal(7, roi.Row(0)[1]);
        Assert.Equal(21, roi.Row(8)[33]);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(roi.Data, out ArraySegment<byte> seg));
        Assert.Equal((7 * frame.Stride) + 30, seg.Offset);
    }

    [Theory]
    [InlineData(35, 0, 10, 10, "outside the 40x30 frame")]
    [InlineData(-1, 0, 10, 10, "outside")]
    [InlineData(0, 0, 0, 10, "zero size")]
    public void Crop_OutsideOrEmpty_IsAClearError(int x, int y, int w, int h, string message)
    {
        ImageView frame = Gradient(40, 30);

        var ex = Assert.Throws<ImageFormatException>(() => frame.Crop(new PixelRect(x, y, w, h)));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedBuffer_IsAClearError()
    {
        var ex = Assert.Throws<ImageFormatException>(() => ImageView.Packed(new byte[100], 10, 10, PixelFormat.Rgb24));

        Assert.Contains("needs 300 bytes; the buffer holds 100", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnmanagedMemoryManager_ViewsUnmanagedPixels()
    {
        unsafe
        {
            byte* p = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc(12);
            try
            {
                for (int i = 0; i < 12; i++)
                {
                    p[i] = (byte)i;
                }

                using var native = new UnmanagedMemoryManager<byte>((IntPtr)p, 12);
                ImageView view = ImageView.Packed(native.Memory, 2, 2, PixelFormat.Bgr24);

                Assert.Equal(9, view.Row(1)[3]);
            }
            finally
            {
                System.Runtime.InteropServices.NativeMemory.Free(p);
            }
        }
    }
}
