using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Models.Families;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>
/// Runs a family's vision sessions over a <see cref="ViewBatch"/> and writes <c>views × tokens × hidden</c> features.
/// SmolVLM: one <c>vision_encoder</c> call over <c>[1, N, 3, 512, 512]</c> + mask (pixel shuffle and projection are
/// inside). MiniCPM-V: <c>vision_encoder</c> per group of equally sized views (the slices of a plan share a size, so
/// they go in one call), then the <c>resampler</c> compresses each view to its query tokens.
/// </summary>
internal sealed class VisionEncoder
{
    private readonly ModelSessions _sessions;
    private readonly ModelManifest _manifest;
    private readonly Dictionary<(int Rows, int Cols), long[]> _positions = [];
    private readonly OrtClock _clock;
    private readonly int _maxViewsPerCall;
    private readonly bool _shrinkArena;
    private float[] _pixels = [];
    private byte[] _mask = [];
    private float[] _features = [];

    /// <param name="sessions">The package's sessions.</param>
    /// <param name="clock">Collects the time spent inside ONNX Runtime runs.</param>
    /// <param name="maxViewsPerCall">Most views per encoder call (0 = all).</param>
    /// <param name="shrinkArena">
    /// Let ONNX Runtime hand the CPU arena's free regions back to the system after the last encoder call of a request
    /// (<c>memory.enable_memory_arena_shrinkage</c>), so the encoder's activations are not held while the decoder
    /// prefills (docs/memory.md). Only with an arena.
    /// </param>
    public VisionEncoder(ModelSessions sessions, OrtClock clock, int maxViewsPerCall = 0, bool shrinkArena = false)
    {
        _clock = clock;
        _maxViewsPerCall = maxViewsPerCall;
        _shrinkArena = shrinkArena;
        _sessions = sessions;
        _manifest = sessions.Package.Manifest;
        Layout = ModelFamily.Get(_manifest.Family).EncoderLayout;
    }

    /// <summary>How this family's encoder takes its views (its <see cref="ModelFamily.EncoderLayout"/>).</summary>
    public TensorLayout Layout { get; }

    /// <summary>
    /// Encodes the views of several batches (frames that arrived together) with as few encoder calls as possible:
    /// SmolVLM in one call over all tiles; MiniCPM-V one call per distinct view size.
    /// </summary>
    public (double EncodeMs, double CompressMs) EncodeMany(IReadOnlyList<ViewBatch> batches, IReadOnlyList<Memory<float>> features, RunOptions run)
    {
        int tokens = _manifest.Dimensions.TokensPerView;
        foreach (ViewBatch batch in batches)
        {
            SlicePlan plan = batch.Plan ?? throw new InvalidOperationException("A view batch holds no frame.");
            if (plan.Views.Any(v => v.Tokens != tokens))
            {
                throw new InvalidOperationException($"The plan gives {plan.Views[0].Tokens} tokens per view; model '{_manifest.Name}' makes {tokens}.");
            }
        }

        return Layout == TensorLayout.PaddedBatch ? EncodePadded(batches, features, run) : EncodePerView(batches, features, run);
    }

    private unsafe (double, double) EncodePadded(IReadOnlyList<ViewBatch> batches, IReadOnlyList<Memory<float>> features, RunOptions run)
    {
        int s = _manifest.Dimensions.ImageSize;
        int h = _manifest.Dimensions.TextHidden;
        int tokens = _manifest.Dimensions.TokensPerView;
        int n = 0;
        foreach (ViewBatch batch in batches)
        {
            if (batch.MaxSize != new PixelSize(s, s))
            {
                throw new InvalidOperationException($"SmolVLM views must be {s}x{s}; the plan made {batch.MaxSize} (tile size and model image size differ).");
            }

            n += batch.Count;
        }

        // One batch: its tensors are used in place. Several: copied into one [1, N, 3, S, S] tensor (a copy is
        // milliseconds; an encoder call per frame would cost far more on a GPU).
        Memory<float> pixelMemory;
        Memory<byte> maskMemory;
        Memory<float> output;
        if (batches.Count == 1)
        {
            pixelMemory = batches[0].PixelMemory;
            maskMemory = batches[0].MaskMemory;
            output = features[0][..(n * tokens * h)];
        }
        else
        {
            Grow(ref _pixels, n * 3 * s * s);
            Grow(ref _mask, n * s * s);
            Grow(ref _features, n * tokens * h);
            int p = 0, m = 0;
            foreach (ViewBatch batch in batches)
            {
                batch.Pixels.CopyTo(_pixels.AsSpan(p));
                batch.Mask.CopyTo(_mask.AsSpan(m));
                p += batch.Pixels.Length;
                m += batch.Mask.Length;
            }

            pixelMemory = _pixels.AsMemory(0, p);
            maskMemory = _mask.AsMemory(0, m);
            output = _features.AsMemory(0, n * tokens * h);
        }

        var clock = Stopwatch.StartNew();
        using MemoryHandle maskPin = maskMemory.Pin();

        // At most _maxViewsPerCall tiles per call (0 = all): the encoder's activations (attention over 1 024 patches per
        // tile) grow with the batch, so a cap bounds peak memory on small devices at a small cost in throughput.
        int chunk = _maxViewsPerCall > 0 ? Math.Min(_maxViewsPerCall, n) : n;
        for (int first = 0; first < n; first += chunk)
        {
            int count = Math.Min(chunk, n - first);
            using var pixels = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixelMemory.Slice(first * 3 * s * s, count * 3 * s * s), [1, count, 3, s, s]);
            using var mask = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Bool, [1, count, s, s], (IntPtr)((byte*)maskPin.Pointer + ((long)first * s * s)), (long)count * s * s);
            using var result = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, output.Slice(first * tokens * h, count * tokens * h), [count, tokens, h]);
            if (first + count == n)
            {
                ShrinkAfter(run);
            }

            long t = OrtClock.Start();
            _sessions[SessionNames.VisionEncoder].Run(run, ["pixel_values", "pixel_attention_mask"], [pixels, mask], ["image_features"], [result]);
            _clock.Stop(t);
        }

        if (batches.Count > 1)
        {
            int offset = 0;
            for (int b = 0; b < batches.Count; b++)
            {
                int length = batches[b].Count * tokens * h;
                _features.AsSpan(offset, length).CopyTo(features[b].Span);
                offset += length;
            }
        }

        return (clock.Elapsed.TotalMilliseconds, 0);
    }

    private (double, double) EncodePerView(IReadOnlyList<ViewBatch> batches, IReadOnlyList<Memory<float>> features, RunOptions run)
    {
        int p = _manifest.Dimensions.PatchSize;
        int h = _manifest.Dimensions.TextHidden;
        int tokens = _manifest.Dimensions.TokensPerView;
        int grid = _manifest.Dimensions.PositionGrid;
        double encodeMs = 0, compressMs = 0;
        var clock = new Stopwatch();

        // Views of every batch grouped by size, in order of first appearance: one encoder + resampler call per size.
        var groups = new List<(PixelSize Size, List<(int Batch, int View)> Members)>();
        for (int b = 0; b < batches.Count; b++)
        {
            for (int v = 0; v < batches[b].Count; v++)
            {
                PixelSize size = batches[b].ViewSize(v);
                int g = groups.FindIndex(x => x.Size == size);
                if (g < 0)
                {
                    groups.Add((size, []));
                    g = groups.Count - 1;
                }

                groups[g].Members.Add((b, v));
            }
        }

        foreach ((PixelSize size, List<(int Batch, int View)> members) in groups)
        {
            if (size.Width % p != 0 || size.Height % p != 0)
            {
                throw new InvalidOperationException($"A view is {size}, not a multiple of the patch size {p}.");
            }

            int count = members.Count;
            int viewLength = 3 * (int)size.Area;
            Memory<float> pixelMemory;
            if (count == 1)
            {
                pixelMemory = batches[members[0].Batch].ViewPixelMemory(members[0].View);
            }
            else
            {
                Grow(ref _pixels, count * viewLength);
                for (int i = 0; i < count; i++)
                {
                    batches[members[i].Batch].ViewPixelMemory(members[i].View).Span.CopyTo(_pixels.AsSpan(i * viewLength));
                }

                pixelMemory = _pixels.AsMemory(0, count * viewLength);
            }

            int rows = size.Height / p, cols = size.Width / p;
            long[] positions = PositionsFor(rows, cols, grid, count);
            Grow(ref _features, count * tokens * h);
            clock.Restart();
            using var pixels = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixelMemory, [count, 3, size.Height, size.Width]);
            using var ids = OrtValue.CreateTensorValueFromMemory(positions, [count, rows * cols]);
            long t = OrtClock.Start();
            using IDisposableReadOnlyCollection<OrtValue> vision = _sessions[SessionNames.VisionEncoder].Run(run, ["pixel_values", "patch_position_ids"], [pixels, ids], ["vision_features"]);
            _clock.Stop(t);
            encodeMs += clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _features.AsMemory(0, count * tokens * h), [count, tokens, h]);
            if (ReferenceEquals(members, groups[^1].Members))
            {
                ShrinkAfter(run);
            }

            t = OrtClock.Start();
            _sessions[SessionNames.Resampler].Run(run, ["vision_features"], [vision[0]], ["image_features"], [output]);
            _clock.Stop(t);
            for (int i = 0; i < count; i++)
            {
                (int b, int v) = members[i];
                _features.AsSpan(i * tokens * h, tokens * h).CopyTo(features[b].Span[(v * tokens * h)..]);
            }

            compressMs += clock.Elapsed.TotalMilliseconds;
        }

        return (encodeMs, compressMs);
    }

    /// <summary>
    /// Marks <paramref name="run"/> (this request's own run options, used for no later call) to shrink the CPU arena
    /// when the run ends: the free regions the encoder's activations left go back to the system.
    /// </summary>
    private void ShrinkAfter(RunOptions run)
    {
        if (_shrinkArena)
        {
            run.AddRunConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
        }
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }
    }

    private long[] PositionsFor(int rows, int cols, int grid, int count)
    {
        if (!_positions.TryGetValue((rows, cols), out long[]? one))
        {
            one = PatchPositions.Bucketed(rows, cols, grid);
            _positions[(rows, cols)] = one;
        }

        if (count == 1)
        {
            return one;
        }

        long[] many = new long[one.Length * count];
        for (int i = 0; i < count; i++)
        {
            one.CopyTo(many, i * one.Length);
        }

        return many;
    }
}
