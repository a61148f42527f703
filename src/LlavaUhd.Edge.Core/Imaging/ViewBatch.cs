using System.Buffers;
using System.Globalization;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>
/// The pixel path's output: normalised CHW float32 RGB tensors of every view of a plan and a byte mask (1 where a pixel
/// is image, 0 where it is padding). Padding pixels hold 0 after normalisation (the mean colour for mean/std 0.5):
/// the mask, not the value, tells the encoder to ignore them. Storage is pooled and reused: executing frames into the
/// same batch allocates nothing once it has grown to the largest plan.
/// </summary>
public sealed class ViewBatch : IDisposable
{
    private float[] _pixels = [];
    private byte[] _mask = [];
    private int[] _pixelOffset = [];
    private int[] _maskOffset = [];
    private int[] _rowStart = [];
    private int _pixelCount;
    private int _maskCount;

    public ViewBatch(TensorLayout layout = TensorLayout.PerView)
    {
        if (!Enum.IsDefined(layout))
        {
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown tensor layout.");
        }

        Layout = layout;
    }

    public TensorLayout Layout { get; }

    /// <summary>The plan of the last frame written, or null before the first.</summary>
    public SlicePlan? Plan { get; private set; }

    public int Count { get; private set; }

    /// <summary>The largest view width and height (the padded batch's H and W).</summary>
    public PixelSize MaxSize { get; private set; }

    /// <summary>All tensors, back to back (PerView) or the whole batch (PaddedBatch).</summary>
    public ReadOnlySpan<float> Pixels => _pixels.AsSpan(0, _pixelCount);

    /// <summary>All masks: per view <c>[H, W]</c> (PerView) or <c>[N, Hmax, Wmax]</c> (PaddedBatch); 1 = image.</summary>
    public ReadOnlySpan<byte> Mask => _mask.AsSpan(0, _maskCount);

    /// <summary>
    /// <see cref="Pixels"/> as memory, to hand to ONNX Runtime without a copy (an <c>OrtValue</c> over it). Valid until
    /// the next frame is executed into this batch.
    /// </summary>
    public Memory<float> PixelMemory => _pixels.AsMemory(0, _pixelCount);

    /// <summary><see cref="Mask"/> as memory (one byte per pixel: ONNX Runtime's bool layout).</summary>
    public Memory<byte> MaskMemory => _mask.AsMemory(0, _maskCount);

    /// <summary>View <paramref name="view"/>'s tensor as memory (see <see cref="PixelMemory"/>).</summary>
    public Memory<float> ViewPixelMemory(int view) => _pixels.AsMemory(_pixelOffset[view], 3 * (int)TensorSize(view).Area);

    /// <summary>The view's real size (its encoder input size).</summary>
    public PixelSize ViewSize(int view) => Plan!.Views[view].Size;

    /// <summary>The size view <paramref name="view"/> occupies in the tensor: its own size, or <see cref="MaxSize"/> when padded.</summary>
    public PixelSize TensorSize(int view) => Layout == TensorLayout.PaddedBatch ? MaxSize : ViewSize(view);

    /// <summary>View <paramref name="view"/>'s tensor, <c>[3, H, W]</c> with H, W from <see cref="TensorSize"/>.</summary>
    public ReadOnlySpan<float> ViewPixels(int view) => _pixels.AsSpan(_pixelOffset[view], 3 * (int)TensorSize(view).Area);

    /// <summary>View <paramref name="view"/>'s mask, <c>[H, W]</c> with H, W from <see cref="TensorSize"/>.</summary>
    public ReadOnlySpan<byte> ViewMask(int view) => _mask.AsSpan(_maskOffset[view], (int)TensorSize(view).Area);

    /// <summary>The shape of view <paramref name="view"/>'s tensor: [3, H, W].</summary>
    public int[] ViewShape(int view)
    {
        PixelSize s = TensorSize(view);
        return [3, s.Height, s.Width];
    }

    /// <summary>Idefics3's <c>pixel_values</c> shape [1, N, 3, H, W] (PaddedBatch only).</summary>
    public long[] BatchShape()
    {
        if (Layout != TensorLayout.PaddedBatch)
        {
            throw new InvalidOperationException("A batch shape exists only for the PaddedBatch layout; use ViewShape per view.");
        }

        return [1, Count, 3, MaxSize.Height, MaxSize.Width];
    }

    public void Dispose()
    {
        Return();
        Plan = null;
        Count = 0;
    }

    internal Span<float> PixelStorage => _pixels;

    internal Span<byte> MaskStorage => _mask;

    internal int PixelOffset(int view) => _pixelOffset[view];

    internal int MaskOffset(int view) => _maskOffset[view];

    /// <summary>Row items of the normalisation job: view <c>i</c> covers [RowStart(i), RowStart(i + 1)).</summary>
    internal int RowStart(int view) => _rowStart[view];

    /// <summary>Sizes the storage for <paramref name="plan"/>; reuses it when it is large enough.</summary>
    internal void Prepare(SlicePlan plan)
    {
        int n = plan.Views.Length;
        int maxW = 0, maxH = 0;
        foreach (SliceView v in plan.Views)
        {
            maxW = Math.Max(maxW, v.Size.Width);
            maxH = Math.Max(maxH, v.Size.Height);
        }

        if (_pixelOffset.Length < n)
        {
            _pixelOffset = new int[n];
            _maskOffset = new int[n];
            _rowStart = new int[n + 1];
        }

        Plan = plan;
        Count = n;
        MaxSize = new PixelSize(maxW, maxH);
        long pixels = 0, mask = 0;
        int rows = 0;
        for (int i = 0; i < n; i++)
        {
            PixelSize s = TensorSize(i);
            _pixelOffset[i] = (int)pixels;
            _maskOffset[i] = (int)mask;
            _rowStart[i] = rows;
            pixels += 3 * s.Area;
            mask += s.Area;
            rows += s.Height;
        }

        _rowStart[n] = rows;
        if (pixels > Array.MaxLength)
        {
            throw new ImageFormatException(string.Create(CultureInfo.InvariantCulture, $"The plan's views need {pixels} floats, more than one buffer holds."));
        }

        if (_pixels.Length < pixels)
        {
            if (_pixels.Length > 0)
            {
                ArrayPool<float>.Shared.Return(_pixels);
            }

            _pixels = ArrayPool<float>.Shared.Rent((int)pixels);
        }

        if (_mask.Length < mask)
        {
            if (_mask.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_mask);
            }

            _mask = ArrayPool<byte>.Shared.Rent((int)mask);
        }

        _pixelCount = (int)pixels;
        _maskCount = (int)mask;
    }

    private void Return()
    {
        if (_pixels.Length > 0)
        {
            ArrayPool<float>.Shared.Return(_pixels);
            _pixels = [];
        }

        if (_mask.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_mask);
            _mask = [];
        }

        _pixelCount = 0;
        _maskCount = 0;
    }
}
