using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Inference.Models;
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

    public VisionEncoder(ModelSessions sessions, OrtClock clock)
    {
        _clock = clock;
        _sessions = sessions;
        _manifest = sessions.Package.Manifest;
        IsSmolVlm = _manifest.Family == ModelFamilies.SmolVlm;
    }

    public bool IsSmolVlm { get; }

    public TensorLayout Layout => IsSmolVlm ? TensorLayout.PaddedBatch : TensorLayout.PerView;

    /// <summary>Encodes every view of <paramref name="batch"/> into <paramref name="features"/>; returns (encode ms, compress ms).</summary>
    public (double EncodeMs, double CompressMs) Encode(ViewBatch batch, Memory<float> features, RunOptions run)
    {
        SlicePlan plan = batch.Plan ?? throw new InvalidOperationException("The view batch holds no frame.");
        int tokens = _manifest.Dimensions.TokensPerView;
        if (plan.Views.Any(v => v.Tokens != tokens))
        {
            throw new InvalidOperationException($"The plan gives {plan.Views[0].Tokens} tokens per view; model '{_manifest.Name}' makes {tokens}.");
        }

        return IsSmolVlm ? EncodeSmolVlm(batch, features, run) : EncodeMiniCpmV(batch, features, run);
    }

    private unsafe (double, double) EncodeSmolVlm(ViewBatch batch, Memory<float> features, RunOptions run)
    {
        int s = _manifest.Dimensions.ImageSize;
        if (batch.MaxSize != new PixelSize(s, s))
        {
            throw new InvalidOperationException($"SmolVLM views must be {s}x{s}; the plan made {batch.MaxSize} (tile size and model image size differ).");
        }

        int n = batch.Count;
        int h = _manifest.Dimensions.TextHidden;
        int tokens = _manifest.Dimensions.TokensPerView;
        var clock = Stopwatch.StartNew();
        using MemoryHandle maskPin = batch.MaskMemory.Pin();
        using var pixels = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.PixelMemory, batch.BatchShape());
        using var mask = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Bool, [1, n, s, s], (IntPtr)maskPin.Pointer, (long)n * s * s);
        using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, features[..(n * tokens * h)], [n, tokens, h]);
        long t = OrtClock.Start();
        _sessions[SessionNames.VisionEncoder].Run(run, ["pixel_values", "pixel_attention_mask"], [pixels, mask], ["image_features"], [output]);
        _clock.Stop(t);
        return (clock.Elapsed.TotalMilliseconds, 0);
    }

    private (double, double) EncodeMiniCpmV(ViewBatch batch, Memory<float> features, RunOptions run)
    {
        SlicePlan plan = batch.Plan!;
        int p = _manifest.Dimensions.PatchSize;
        int h = _manifest.Dimensions.TextHidden;
        int tokens = _manifest.Dimensions.TokensPerView;
        int grid = _manifest.Dimensions.PositionGrid;
        double encodeMs = 0, compressMs = 0;
        var clock = new Stopwatch();
        for (int first = 0; first < plan.Views.Length;)
        {
            // Equally sized views that lie back to back in the batch go in one call.
            PixelSize size = batch.ViewSize(first);
            int count = 1;
            while (first + count < plan.Views.Length && batch.ViewSize(first + count) == size && Adjacent(batch, first + count - 1, first + count))
            {
                count++;
            }

            if (size.Width % p != 0 || size.Height % p != 0)
            {
                throw new InvalidOperationException($"View {first} is {size}, not a multiple of the patch size {p}.");
            }

            int rows = size.Height / p, cols = size.Width / p;
            long[] positions = PositionsFor(rows, cols, grid, count);
            Memory<float> pixelMemory = Span(batch, first, count);
            clock.Restart();
            using var pixels = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixelMemory, [count, 3, size.Height, size.Width]);
            using var ids = OrtValue.CreateTensorValueFromMemory(positions, [count, rows * cols]);
            long t = OrtClock.Start();
            using IDisposableReadOnlyCollection<OrtValue> vision = _sessions[SessionNames.VisionEncoder].Run(run, ["pixel_values", "patch_position_ids"], [pixels, ids], ["vision_features"]);
            _clock.Stop(t);
            encodeMs += clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, features.Slice(first * tokens * h, count * tokens * h), [count, tokens, h]);
            t = OrtClock.Start();
            _sessions[SessionNames.Resampler].Run(run, ["vision_features"], [vision[0]], ["image_features"], [output]);
            _clock.Stop(t);
            compressMs += clock.Elapsed.TotalMilliseconds;
            first += count;
        }

        return (encodeMs, compressMs);
    }

    private static bool Adjacent(ViewBatch batch, int a, int b)
    {
        MemoryMarshal.TryGetArray<float>(batch.ViewPixelMemory(a), out ArraySegment<float> sa);
        MemoryMarshal.TryGetArray<float>(batch.ViewPixelMemory(b), out ArraySegment<float> sb);
        return sa.Array == sb.Array && sa.Offset + sa.Count == sb.Offset;
    }

    private static Memory<float> Span(ViewBatch batch, int first, int count)
    {
        MemoryMarshal.TryGetArray<float>(batch.ViewPixelMemory(first), out ArraySegment<float> start);
        return start.Array.AsMemory(start.Offset, start.Count * count);
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
