using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>
/// Pillow-exact resizing of 8-bit RGB images (<c>Image.resize(size, filter)</c> with the default box, Pillow 9/10):
/// a horizontal pass into an 8-bit intermediate holding only the rows the vertical pass reads, then a vertical pass;
/// a pass is skipped when its dimension is unchanged. Rows run in parallel on a <see cref="WorkerPool"/>; the SIMD
/// kernels give the same bytes as the scalar port (<see cref="SimdMode.Scalar"/>). Reusing one instance allocates
/// nothing per call once its buffers have grown to the largest image. Not thread-safe: one resize at a time.
/// </summary>
public sealed unsafe class PillowResampler : IDisposable
{
    private readonly WorkerPool _pool;
    private readonly bool _ownsPool;
    private readonly PinnedArena _arena = new();
    private readonly PinnedArena _scratch = new();
    private readonly HorizontalJob _horizontal;
    private readonly VerticalJob _vertical;
    private readonly ConvertJob _convert;

    public PillowResampler(int degreeOfParallelism = 1, SimdMode simd = SimdMode.Auto, ResampleCoefficientCache? cache = null)
        : this(new WorkerPool(degreeOfParallelism), ownsPool: true, simd, cache ?? new ResampleCoefficientCache())
    {
    }

    internal PillowResampler(WorkerPool pool, bool ownsPool, SimdMode simd, ResampleCoefficientCache cache)
    {
        _pool = pool;
        _ownsPool = ownsPool;
        Mode = ResampleKernels.Resolve(simd);
        Cache = cache;
        _horizontal = new HorizontalJob(this);
        _vertical = new VerticalJob(this);
        _convert = new ConvertJob(this);
    }

    /// <summary>The kernel path in use (<see cref="SimdMode.Auto"/> resolved).</summary>
    public SimdMode Mode { get; }

    public ResampleCoefficientCache Cache { get; }

    /// <summary>
    /// Resizes <paramref name="source"/> (BGR or RGB) to <paramref name="size"/> and writes packed RGB (3 bytes per
    /// pixel, Pillow's channel order) to <paramref name="destinationRgb"/>.
    /// </summary>
    public void Resize(ImageView source, PixelSize size, ResampleFilter filter, Span<byte> destinationRgb)
    {
        if (source.IsEmpty)
        {
            throw new ImageFormatException("The source image is empty.");
        }

        ValidateTarget(size);
        long needed = size.Area * 3;
        if (destinationRgb.Length < needed)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The destination holds {destinationRgb.Length} bytes; {size} RGB needs {needed}."), nameof(destinationRgb));
        }

        using MemoryHandle pin = source.Data.Pin();
        var src = new RawImage((byte*)pin.Pointer, source.Width, source.Height, source.Stride, ImageView.BytesPerPixel, source.Format == PixelFormat.Bgr24);
        byte* outBuf = _arena.Get(1, size.Area * 4);
        var dst = new RawImage(outBuf, size.Width, size.Height, size.Width * 4, 4, bgr: false);
        Resize(src, dst, filter);
        for (int y = 0; y < size.Height; y++)
        {
            Span<byte> row = destinationRgb.Slice(y * size.Width * 3, size.Width * 3);
            byte* s = dst.Row(y);
            for (int x = 0; x < size.Width; x++)
            {
                row[x * 3] = s[x * 4];
                row[(x * 3) + 1] = s[(x * 4) + 1];
                row[(x * 3) + 2] = s[(x * 4) + 2];
            }
        }
    }

    public void Dispose()
    {
        if (_ownsPool)
        {
            _pool.Dispose();
        }
    }

    internal static void ValidateTarget(PixelSize size)
    {
        if (size.Width <= 0 || size.Height <= 0 || size.Width > SlicingOptions.MaxDimension || size.Height > SlicingOptions.MaxDimension)
        {
            throw new ImageFormatException(string.Create(CultureInfo.InvariantCulture, $"Cannot resize to {size}: both sides must be between 1 and {SlicingOptions.MaxDimension}."));
        }
    }

    /// <summary>Resizes <paramref name="src"/> (3- or 4-byte pixels) into the RGBX image <paramref name="dst"/>, whose size is the target size.</summary>
    internal void Resize(in RawImage src, in RawImage dst, ResampleFilter filter)
    {
        bool needH = src.Width != dst.Width;
        bool needV = src.Height != dst.Height;
        if (!needH && !needV)
        {
            _convert.Set(src, dst, 0);
            _pool.Run(_convert, dst.Height);
            return;
        }

        ResampleCoefficients? cv = needV ? Cache.Get(src.Height, dst.Height, filter) : null;
        RawImage vin = src;
        int shift = 0;
        if (needH)
        {
            ResampleCoefficients ch = Cache.Get(src.Width, dst.Width, filter);
            int first = cv?.First ?? 0;
            int rows = (cv?.Last ?? src.Height) - first;
            RawImage temp = needV
                ? new RawImage(_arena.Get(0, (long)dst.Width * rows * 4), dst.Width, rows, dst.Width * 4, 4, bgr: false)
                : dst;
            _horizontal.Set(src, temp, ch, first);
            _pool.Run(_horizontal, rows);
            vin = temp;
            shift = first;
        }
        else if (!src.IsRgbx)
        {
            // The vertical kernel reads RGBX: convert the rows it uses once.
            int first = cv!.First;
            int rows = cv.Last - first;
            var temp = new RawImage(_arena.Get(0, (long)src.Width * rows * 4), src.Width, rows, src.Width * 4, 4, bgr: false);
            _convert.Set(src, temp, first);
            _pool.Run(_convert, rows);
            vin = temp;
            shift = first;
        }

        if (needV)
        {
            _vertical.Set(vin, dst, cv!, shift);
            _pool.Run(_vertical, dst.Height);
        }
    }

    private byte* Scratch(int worker, int width) => _scratch.Get(worker, (long)width * 4);

    /// <summary>Pinned, growable byte buffers by slot; each has <see cref="ResampleKernels.Slack"/> readable bytes past its end.</summary>
    internal sealed class PinnedArena
    {
        private byte[]?[] _slots = new byte[64][];

        public long Bytes => _slots.Sum(s => (long)(s?.Length ?? 0));

        public byte* Get(int slot, long bytes)
        {
            if (slot >= _slots.Length)
            {
                Array.Resize(ref _slots, Math.Max(slot + 1, _slots.Length * 2));
            }

            long want = bytes + ResampleKernels.Slack;
            byte[]? buffer = _slots[slot];
            if (buffer is null || buffer.Length < want)
            {
                if (want > Array.MaxLength)
                {
                    throw new ImageFormatException(string.Create(CultureInfo.InvariantCulture, $"An image buffer of {bytes} bytes is too large."));
                }

                buffer = GC.AllocateUninitializedArray<byte>((int)want, pinned: true);
                buffer.AsSpan((int)bytes).Clear();
                _slots[slot] = buffer;
            }

            return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        }
    }

    private sealed class HorizontalJob(PillowResampler owner) : IParallelJob
    {
        private RawImage _src;
        private RawImage _dst;
        private ResampleCoefficients _c = null!;
        private int _first;

        public void Set(in RawImage src, in RawImage dst, ResampleCoefficients c, int first)
        {
            _src = src;
            _dst = dst;
            _c = c;
            _first = first;
        }

        public void Execute(int begin, int end, int worker)
        {
            if (ResampleKernels.ReadsSourceDirectly(owner.Mode))
            {
                byte* tail = owner.Scratch(worker, _src.Width);
                int y4 = begin;
                for (; y4 + 4 <= end; y4 += 4)
                {
                    ResampleKernels.HorizontalMadd4(_src.Row(_first + y4), _src.Stride, _src.BytesPerPixel, _src.Bgr, _src.Width, _dst.Row(y4), _dst.Stride, _c, tail);
                }

                for (int y = y4; y < end; y++)
                {
                    ResampleKernels.HorizontalMadd(_src.Row(_first + y), _src.BytesPerPixel, _src.Bgr, _src.Width, _dst.Row(y), _c, tail);
                }

                return;
            }

            byte* scratch = _src.IsRgbx ? null : owner.Scratch(worker, _src.Width);
            for (int y = begin; y < end; y++)
            {
                byte* row = _src.Row(_first + y);
                if (!_src.IsRgbx)
                {
                    ResampleKernels.ToRgbx(row, _src.BytesPerPixel, _src.Bgr, _src.Width, scratch, owner.Mode);
                    row = scratch;
                }

                ResampleKernels.Horizontal(row, _dst.Row(y), _c, owner.Mode);
            }
        }
    }

    private sealed class VerticalJob(PillowResampler owner) : IParallelJob
    {
        private RawImage _src;
        private RawImage _dst;
        private ResampleCoefficients _c = null!;
        private int _shift;

        public void Set(in RawImage src, in RawImage dst, ResampleCoefficients c, int shift)
        {
            _src = src;
            _dst = dst;
            _c = c;
            _shift = shift;
        }

        public void Execute(int begin, int end, int worker)
        {
            for (int y = begin; y < end; y++)
            {
                ResampleKernels.Vertical(_src.Data, _src.Stride, _shift, _c, y, _dst.Row(y), _dst.Width * 4, owner.Mode);
            }
        }
    }

    private sealed class ConvertJob(PillowResampler owner) : IParallelJob
    {
        private RawImage _src;
        private RawImage _dst;
        private int _first;

        public void Set(in RawImage src, in RawImage dst, int first)
        {
            _src = src;
            _dst = dst;
            _first = first;
        }

        public void Execute(int begin, int end, int worker)
        {
            for (int y = begin; y < end; y++)
            {
                ResampleKernels.ToRgbx(_src.Row(_first + y), _src.BytesPerPixel, _src.Bgr, _dst.Width, _dst.Row(y), owner.Mode);
            }
        }
    }
}
