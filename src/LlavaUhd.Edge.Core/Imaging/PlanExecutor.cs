using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>Settings of the pixel path.</summary>
public sealed record PixelPipelineOptions
{
    /// <summary>Threads working on one frame (rows of a pass, rows of the views); 1 = the calling thread only.</summary>
    public int DegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    public SimdMode Simd { get; init; } = SimdMode.Auto;

    /// <summary>Mean/std per channel; null = the plan's scheme's (<see cref="Normalization.For"/>).</summary>
    public Normalization? Normalization { get; init; }

    public void Validate()
    {
        if (DegreeOfParallelism is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(DegreeOfParallelism), DegreeOfParallelism, "The degree of parallelism must be between 1 and 256.");
        }

        if (!Enum.IsDefined(Simd))
        {
            throw new ArgumentOutOfRangeException(nameof(Simd), Simd, "Unknown SIMD mode.");
        }

        Normalization?.Validate();
    }
}

/// <summary>
/// Executes a <see cref="SlicePlan"/> on a frame or region: every stage in order (crop its source from its input,
/// resize it Pillow-exactly to its content size, place it on its canvas with black padding), each stage an 8-bit RGB
/// image in pooled pinned memory (a crop without resize is a view of its input, not a copy), then writes every view,
/// normalised, into a <see cref="ViewBatch"/>. The region may be a crop of a larger frame (<see cref="ImageView.Crop"/>);
/// BGR (OpenCV) and RGB inputs give the same tensors. After the first frame of a given plan shape nothing is
/// allocated per frame. One frame at a time per executor.
/// </summary>
public sealed unsafe class PlanExecutor : IDisposable
{
    private readonly WorkerPool _pool;
    private readonly PillowResampler _resampler;
    private readonly PillowResampler.PinnedArena _arena = new();
    private readonly NormalizeJob _normalize;
    private RawImage[] _stages = [];
    private SlicePlan? _plan;

    public PlanExecutor(PixelPipelineOptions? options = null)
    {
        Options = options ?? new PixelPipelineOptions();
        Options.Validate();
        _pool = new WorkerPool(Options.DegreeOfParallelism);
        _resampler = new PillowResampler(_pool, ownsPool: false, Options.Simd, new ResampleCoefficientCache());
        _normalize = new NormalizeJob(this);
    }

    public PixelPipelineOptions Options { get; }

    /// <summary>The kernel path in use.</summary>
    public SimdMode Mode => _resampler.Mode;

    /// <summary>Coefficient tables cached so far (one per (in, out, filter)).</summary>
    public int CachedCoefficientTables => _resampler.Cache.Count;

    /// <summary>Runs <paramref name="plan"/> on <paramref name="region"/> and writes the views into <paramref name="batch"/>.</summary>
    /// <exception cref="ImageFormatException">The region's size is not the size the plan was made for.</exception>
    public void Execute(SlicePlan plan, ImageView region, ViewBatch batch)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(batch);
        if (region.IsEmpty || region.Data.IsEmpty)
        {
            throw new ImageFormatException("The frame is empty (no pixels).");
        }

        if (region.Size != plan.Original)
        {
            throw new ImageFormatException(string.Create(CultureInfo.InvariantCulture, $"The region is {region.Size} but the plan was made for {plan.Original}; plan the region you execute."));
        }

        using MemoryHandle pin = region.Data.Pin();
        var source = new RawImage((byte*)pin.Pointer, region.Width, region.Height, region.Stride, ImageView.BytesPerPixel, region.Format == PixelFormat.Bgr24);
        if (_stages.Length < plan.Stages.Length)
        {
            _stages = new RawImage[plan.Stages.Length];
        }

        _plan = null;
        foreach (PlanStage stage in plan.Stages)
        {
            RawImage input = stage.Input == PlanStage.RegionInput ? source : _stages[stage.Input];
            if (!new PixelRect(0, 0, input.Width, input.Height).Contains(stage.Source) || stage.Source.IsEmpty)
            {
                throw new ImageFormatException($"Stage '{stage.Name}' reads {stage.Source}, outside its {input.Width}x{input.Height} input.");
            }

            RawImage src = input.Crop(stage.Source.X, stage.Source.Y, stage.Source.Width, stage.Source.Height);
            bool fullCanvas = stage.Content == PixelRect.FromSize(stage.Size);
            if (!stage.Resamples && fullCanvas && src.IsRgbx)
            {
                _stages[stage.Index] = src;
                continue;
            }

            PillowResampler.ValidateTarget(stage.Size);
            byte* buffer = _arena.Get(stage.Index, stage.Size.Area * 4);
            var canvas = new RawImage(buffer, stage.Size.Width, stage.Size.Height, stage.Size.Width * 4, 4, bgr: false);
            if (!fullCanvas)
            {
                NativeMemory.Clear(buffer, (nuint)(stage.Size.Area * 4));
            }

            _resampler.Resize(src, canvas.Crop(stage.Content.X, stage.Content.Y, stage.Content.Width, stage.Content.Height), stage.Filter);
            _stages[stage.Index] = canvas;
        }

        _plan = plan;
        batch.Prepare(plan);
        _normalize.Set(plan, batch, Options.Normalization ?? Normalization.For(plan.Scheme));
        _pool.Run(_normalize, batch.RowStart(batch.Count), minGrain: 4);
    }

    /// <summary>Copies view <paramref name="view"/> of the last executed frame as packed 8-bit RGB (before normalisation).</summary>
    public void CopyViewRgb(int view, Span<byte> destination)
    {
        if (_plan is null)
        {
            throw new InvalidOperationException("No frame has been executed.");
        }

        SliceView v = _plan.Views[view];
        RawImage img = _stages[v.Stage];
        int w = img.Width, h = img.Height;
        if (destination.Length < w * h * 3)
        {
            throw new ArgumentException($"The destination needs {w * h * 3} bytes.", nameof(destination));
        }

        for (int y = 0; y < h; y++)
        {
            byte* row = img.Row(y);
            for (int x = 0; x < w; x++)
            {
                int i = ((y * w) + x) * 3;
                destination[i] = row[x * 4];
                destination[i + 1] = row[(x * 4) + 1];
                destination[i + 2] = row[(x * 4) + 2];
            }
        }
    }

    public void Dispose()
    {
        _resampler.Dispose();
        _pool.Dispose();
    }

    /// <summary>Normalises one row of the RGBX image into three float planes: v · scale + bias per channel.</summary>
    internal static void NormalizeRow(byte* row, int count, Span<float> r, Span<float> g, Span<float> b, Normalization n, SimdMode mode)
    {
        float sr = n.Scale(0), sg = n.Scale(1), sb = n.Scale(2);
        float br = n.Bias(0), bg = n.Bias(1), bb = n.Bias(2);
        int x = 0;
        if (mode != SimdMode.Scalar && Vector.IsHardwareAccelerated)
        {
            int lanes = Vector<uint>.Count;
            var mask = new Vector<uint>(0xFF);
            Vector<float> vsr = new(sr), vsg = new(sg), vsb = new(sb), vbr = new(br), vbg = new(bg), vbb = new(bb);
            for (; x + lanes <= count; x += lanes)
            {
                Vector<uint> px = Unsafe.ReadUnaligned<Vector<uint>>(row + (x * 4));
                Vector<float> fr = Vector.ConvertToSingle(Vector.AsVectorInt32(px & mask));
                Vector<float> fg = Vector.ConvertToSingle(Vector.AsVectorInt32((px >> 8) & mask));
                Vector<float> fb = Vector.ConvertToSingle(Vector.AsVectorInt32((px >> 16) & mask));
                ((fr * vsr) + vbr).CopyTo(r[x..]);
                ((fg * vsg) + vbg).CopyTo(g[x..]);
                ((fb * vsb) + vbb).CopyTo(b[x..]);
            }
        }

        for (; x < count; x++)
        {
            byte* p = row + (x * 4);
            r[x] = (p[0] * sr) + br;
            g[x] = (p[1] * sg) + bg;
            b[x] = (p[2] * sb) + bb;
        }
    }

    private sealed class NormalizeJob(PlanExecutor owner) : IParallelJob
    {
        private SlicePlan _plan = null!;
        private ViewBatch _batch = null!;
        private Normalization _norm = Normalization.Half;

        public void Set(SlicePlan plan, ViewBatch batch, Normalization norm)
        {
            _plan = plan;
            _batch = batch;
            _norm = norm;
        }

        public void Execute(int begin, int end, int worker)
        {
            int view = 0;
            for (int item = begin; item < end; item++)
            {
                while (_batch.RowStart(view + 1) <= item)
                {
                    view++;
                }

                Row(view, item - _batch.RowStart(view));
            }
        }

        private void Row(int view, int y)
        {
            SliceView v = _plan.Views[view];
            PixelSize t = _batch.TensorSize(view);
            int plane = (int)t.Area;
            Span<float> pixels = _batch.PixelStorage.Slice(_batch.PixelOffset(view), 3 * plane);
            Span<float> r = pixels.Slice(y * t.Width, t.Width);
            Span<float> g = pixels.Slice(plane + (y * t.Width), t.Width);
            Span<float> b = pixels.Slice((2 * plane) + (y * t.Width), t.Width);
            Span<byte> mask = _batch.MaskStorage.Slice(_batch.MaskOffset(view) + (y * t.Width), t.Width);
            PixelRect valid = v.Valid;
            if (y < valid.Y || y >= valid.Bottom || valid.IsEmpty)
            {
                r.Clear();
                g.Clear();
                b.Clear();
                mask.Clear();
                return;
            }

            int x0 = valid.X, x1 = valid.Right;
            r[..x0].Clear();
            g[..x0].Clear();
            b[..x0].Clear();
            mask[..x0].Clear();
            r[x1..].Clear();
            g[x1..].Clear();
            b[x1..].Clear();
            mask[x1..].Clear();
            mask[x0..x1].Fill(1);
            RawImage img = owner._stages[v.Stage];
            NormalizeRow(img.Row(y) + (x0 * 4), x1 - x0, r[x0..x1], g[x0..x1], b[x0..x1], _norm, owner.Mode);
        }
    }
}
