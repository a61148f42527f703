using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>Which code path the pixel kernels take. <see cref="Auto"/> picks the widest the CPU accelerates.</summary>
public enum SimdMode
{
    /// <summary>AVX2 on x86-64 when available, else 128-bit vectors (SSE4/NEON), else scalar.</summary>
    Auto,

    /// <summary>The scalar reference path: a line-by-line port of Pillow's loops.</summary>
    Scalar,

    /// <summary>Portable 128-bit vectors (<see cref="Vector128{T}"/>) and <see cref="Vector{T}"/>.</summary>
    Vector128,

    /// <summary>x86-64 AVX2 (falls back to <see cref="Vector128"/> where not supported).</summary>
    Avx2,

    /// <summary>
    /// x86-64 AVX2 with exact int16 multiply-add (<c>vpmaddwd</c>): every weight is split into hi · 2^11 + lo and
    /// both halves are accumulated in int32, so the sums are Pillow's to the bit; the horizontal pass reads BGR/RGB
    /// frames directly (no RGBX copy). Falls back to <see cref="Vector128"/> where AVX2 is not supported.
    /// </summary>
    Avx2Madd,
}

/// <summary>
/// An 8-bit image in memory the kernels address with pointers: 3 bytes per pixel (a BGR or RGB frame) or 4 (the
/// pipeline's own RGBX images: R, G, B, 0). The owner keeps the memory pinned while the kernels run.
/// </summary>
internal readonly unsafe struct RawImage
{
    public RawImage(byte* data, int width, int height, int stride, int bytesPerPixel, bool bgr)
    {
        Data = data;
        Width = width;
        Height = height;
        Stride = stride;
        BytesPerPixel = bytesPerPixel;
        Bgr = bgr;
    }

    public byte* Data { get; }

    public int Width { get; }

    public int Height { get; }

    public int Stride { get; }

    public int BytesPerPixel { get; }

    public bool Bgr { get; }

    public bool IsRgbx => BytesPerPixel == 4;

    public byte* Row(int y) => Data + ((long)y * Stride);

    public RawImage Crop(int x, int y, int width, int height) =>
        new(Data + ((long)y * Stride) + ((long)x * BytesPerPixel), width, height, Stride, BytesPerPixel, Bgr);
}

/// <summary>Pillow's 8-bit resampling loops (<c>ImagingResampleHorizontal_8bpc</c>, <c>…Vertical_8bpc</c>) in scalar and SIMD forms.</summary>
internal static unsafe class ResampleKernels
{
    /// <summary>Bytes past the end of every RGBX buffer that the SIMD kernels may read (their weights there are 0).</summary>
    public const int Slack = 64;

    public static SimdMode Resolve(SimdMode mode) => mode switch
    {
        SimdMode.Auto when Avx2.IsSupported => SimdMode.Avx2Madd,
        SimdMode.Auto or SimdMode.Avx2 or SimdMode.Avx2Madd when !Avx2.IsSupported && Vector128.IsHardwareAccelerated => SimdMode.Vector128,
        SimdMode.Auto or SimdMode.Avx2 or SimdMode.Avx2Madd when !Avx2.IsSupported => SimdMode.Scalar,
        SimdMode.Vector128 when !Vector128.IsHardwareAccelerated => SimdMode.Scalar,
        _ => mode,
    };

    /// <summary>Converts <paramref name="count"/> 3- or 4-byte pixels to RGBX (swapping BGR to RGB).</summary>
    public static void ToRgbx(byte* src, int bytesPerPixel, bool bgr, int count, byte* dst, SimdMode mode)
    {
        int x = 0;
        if (bytesPerPixel == 4)
        {
            Buffer.MemoryCopy(src, dst, (long)count * 4, (long)count * 4);
            return;
        }

        if (mode != SimdMode.Scalar && Vector128.IsHardwareAccelerated)
        {
            Vector128<byte> shuffle = bgr
                ? Vector128.Create((byte)2, 1, 0, 0xFF, 5, 4, 3, 0xFF, 8, 7, 6, 0xFF, 11, 10, 9, 0xFF)
                : Vector128.Create((byte)0, 1, 2, 0xFF, 3, 4, 5, 0xFF, 6, 7, 8, 0xFF, 9, 10, 11, 0xFF);
            for (; x + 6 <= count; x += 4)
            {
                Vector128<byte> v = Vector128.Load(src + (x * 3));
                Vector128.Shuffle(v, shuffle).Store(dst + (x * 4));
            }
        }

        int r = bgr ? 2 : 0;
        int b = bgr ? 0 : 2;
        for (; x < count; x++)
        {
            byte* s = src + (x * 3);
            byte* d = dst + (x * 4);
            d[0] = s[r];
            d[1] = s[1];
            d[2] = s[b];
            d[3] = 0;
        }
    }

    /// <summary>One output row of the horizontal pass from an RGBX input row (which must have <see cref="Slack"/> readable bytes after it).</summary>
    public static void Horizontal(byte* row, byte* dst, ResampleCoefficients c, SimdMode mode)
    {
        int[] bounds = c.Bounds;
        if (mode is SimdMode.Avx2 or SimdMode.Avx2Madd && Avx2.IsSupported)
        {
            int kp = c.PaddedTaps * 4;
            Vector128<int> half = Vector128.Create(ResampleCoefficients.Half);
            fixed (int* w4 = c.Weights4)
            {
                for (int xx = 0; xx < c.OutSize; xx++)
                {
                    int xmin = bounds[2 * xx];
                    int n = bounds[(2 * xx) + 1];
                    byte* p = row + (xmin * 4);
                    int* k = w4 + (xx * kp);
                    Vector256<int> acc = Vector256<int>.Zero;
                    for (int t = 0; t < n; t += 2)
                    {
                        acc = Avx2.Add(acc, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p + (t * 4)), Avx.LoadVector256(k + (t * 4))));
                    }

                    Vector128<int> s = Sse2.ShiftRightArithmetic(Sse2.Add(Sse2.Add(acc.GetLower(), acc.GetUpper()), half), ResampleCoefficients.PrecisionBits);
                    Vector128<short> narrow = Sse2.PackSignedSaturate(s, s);
                    *(uint*)(dst + (xx * 4)) = Sse2.PackUnsignedSaturate(narrow, narrow).AsUInt32().ToScalar();
                }
            }

            return;
        }

        if (mode != SimdMode.Scalar && Vector128.IsHardwareAccelerated)
        {
            int kp = c.PaddedTaps * 4;
            Vector128<int> half = Vector128.Create(ResampleCoefficients.Half);
            Vector128<int> max = Vector128.Create(255);
            fixed (int* w4 = c.Weights4)
            {
                for (int xx = 0; xx < c.OutSize; xx++)
                {
                    int xmin = bounds[2 * xx];
                    int n = bounds[(2 * xx) + 1];
                    byte* p = row + (xmin * 4);
                    int* k = w4 + (xx * kp);
                    Vector128<int> acc = half;
                    for (int t = 0; t < n; t++)
                    {
                        Vector128<byte> px = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(p + (t * 4))).AsByte();
                        acc += Vector128.WidenLower(Vector128.WidenLower(px)).AsInt32() * Vector128.Load(k + (t * 4));
                    }

                    Vector128<int> s = Vector128.Min(Vector128.Max(Vector128.ShiftRightArithmetic(acc, ResampleCoefficients.PrecisionBits), Vector128<int>.Zero), max);
                    Vector128<ushort> w = Vector128.Narrow(s.AsUInt32(), s.AsUInt32());
                    *(uint*)(dst + (xx * 4)) = Vector128.Narrow(w, w).AsUInt32().ToScalar();
                }
            }

            return;
        }

        int taps = c.Taps;
        int[] weights = c.Weights;
        for (int xx = 0; xx < c.OutSize; xx++)
        {
            int xmin = bounds[2 * xx];
            int n = bounds[(2 * xx) + 1];
            int k = xx * taps;
            int ss0 = ResampleCoefficients.Half, ss1 = ResampleCoefficients.Half, ss2 = ResampleCoefficients.Half;
            for (int x = 0; x < n; x++)
            {
                byte* p = row + ((x + xmin) * 4);
                int w = weights[k + x];
                ss0 += p[0] * w;
                ss1 += p[1] * w;
                ss2 += p[2] * w;
            }

            byte* d = dst + (xx * 4);
            d[0] = Clip8(ss0);
            d[1] = Clip8(ss1);
            d[2] = Clip8(ss2);
            d[3] = 0;
        }
    }

    /// <summary>
    /// Output row <paramref name="yy"/> of the vertical pass. <paramref name="src"/> is the first row the pass may read
    /// (input row <paramref name="rowShift"/>); <paramref name="bytes"/> = width × 4.
    /// </summary>
    public static void Vertical(byte* src, int stride, int rowShift, ResampleCoefficients c, int yy, byte* dst, int bytes, SimdMode mode)
    {
        if (mode == SimdMode.Avx2Madd && Avx2.IsSupported && bytes >= 32)
        {
            VerticalMadd(src, stride, rowShift, c, yy, dst, bytes);
            return;
        }

        int ymin = c.Bounds[2 * yy] - rowShift;
        int n = c.Bounds[(2 * yy) + 1];
        byte* src0 = src + ((long)ymin * stride);
        int x = 0;
        fixed (int* w = c.Weights)
        {
            int* k = w + (yy * c.Taps);
            if (mode != SimdMode.Scalar && Vector.IsHardwareAccelerated)
            {
                int vb = Vector<byte>.Count;
                var half = new Vector<int>(ResampleCoefficients.Half);
                var max = new Vector<int>(255);
                for (; x + vb <= bytes; x += vb)
                {
                    Vector<int> a0 = half, a1 = half, a2 = half, a3 = half;
                    byte* p = src0 + x;
                    for (int t = 0; t < n; t++, p += stride)
                    {
                        Vector<byte> v = Unsafe.ReadUnaligned<Vector<byte>>(p);
                        Vector.Widen(v, out Vector<ushort> lo, out Vector<ushort> hi);
                        Vector.Widen(lo, out Vector<uint> u0, out Vector<uint> u1);
                        Vector.Widen(hi, out Vector<uint> u2, out Vector<uint> u3);
                        var kv = new Vector<int>(k[t]);
                        a0 += Vector.AsVectorInt32(u0) * kv;
                        a1 += Vector.AsVectorInt32(u1) * kv;
                        a2 += Vector.AsVectorInt32(u2) * kv;
                        a3 += Vector.AsVectorInt32(u3) * kv;
                    }

                    Vector<uint> c0 = Vector.AsVectorUInt32(Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(a0, ResampleCoefficients.PrecisionBits), Vector<int>.Zero), max));
                    Vector<uint> c1 = Vector.AsVectorUInt32(Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(a1, ResampleCoefficients.PrecisionBits), Vector<int>.Zero), max));
                    Vector<uint> c2 = Vector.AsVectorUInt32(Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(a2, ResampleCoefficients.PrecisionBits), Vector<int>.Zero), max));
                    Vector<uint> c3 = Vector.AsVectorUInt32(Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(a3, ResampleCoefficients.PrecisionBits), Vector<int>.Zero), max));
                    Vector<byte> packed = Vector.Narrow(Vector.Narrow(c0, c1), Vector.Narrow(c2, c3));
                    Unsafe.WriteUnaligned(dst + x, packed);
                }
            }

            for (; x < bytes; x++)
            {
                int ss = ResampleCoefficients.Half;
                byte* p = src0 + x;
                for (int t = 0; t < n; t++, p += stride)
                {
                    ss += *p * k[t];
                }

                dst[x] = Clip8(ss);
            }
        }
    }

    /// <summary>Whether <see cref="HorizontalMadd"/> reads the source directly (3- or 4-byte pixels, no RGBX copy).</summary>
    public static bool ReadsSourceDirectly(SimdMode mode) => mode == SimdMode.Avx2Madd && Avx2.IsSupported;

    /// <summary>
    /// One output row of the horizontal pass with exact int16 multiply-adds, reading a 3- or 4-byte pixel row
    /// (<paramref name="inWidth"/> pixels) directly; it never reads past the row's last byte: the outputs whose
    /// 16-byte loads would cross it read a zero-padded copy of the row's tail in <paramref name="scratch"/>
    /// (inWidth × 4 + <see cref="Slack"/> bytes).
    /// </summary>
    public static void HorizontalMadd(byte* row, int bpp, bool bgr, int inWidth, byte* dst, ResampleCoefficients c, byte* scratch)
    {
        Vector256<byte> shuffle = MaddShuffle(bpp, bgr);
        int safe = MaddSafeOutputs(c, bpp, inWidth);
        fixed (short* wAll = c.WeightsMaddH)
        {
            MaddOutputs(row, dst, c.Bounds, wAll, c.MaddGroups * 32, bpp, shuffle, 0, safe, 0);
        }

        MaddTail(row, bpp, shuffle, inWidth, dst, c, scratch, safe);
    }

    /// <summary>
    /// <see cref="HorizontalMadd"/> for 4 consecutive rows (<paramref name="stride"/> apart; output rows
    /// <paramref name="dstStride"/> apart): every weight vector is loaded once for the 4 rows.
    /// </summary>
    public static void HorizontalMadd4(byte* row, long stride, int bpp, bool bgr, int inWidth, byte* dst, long dstStride, ResampleCoefficients c, byte* scratch)
    {
        Vector256<byte> shuffle = MaddShuffle(bpp, bgr);
        int safe = MaddSafeOutputs(c, bpp, inWidth);
        int[] bounds = c.Bounds;
        int gStride = c.MaddGroups * 32;
        Vector256<int> half = Vector256.Create(ResampleCoefficients.Half);
        fixed (short* wAll = c.WeightsMaddH)
        {
            for (int xx = 0; xx < safe; xx++)
            {
                int n = bounds[(2 * xx) + 1];
                byte* p = row + ((long)bounds[2 * xx] * bpp);
                short* k = wAll + (xx * gStride);
                Vector256<int> h0 = Vector256<int>.Zero, h1 = h0, h2 = h0, h3 = h0, l0 = h0, l1 = h0, l2 = h0, l3 = h0;
                for (int t = 0; t < n; t += 4, p += 4 * bpp, k += 32)
                {
                    Vector256<short> kh = Avx.LoadVector256(k), kl = Avx.LoadVector256(k + 16);
                    Vector256<short> x0 = Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(p), shuffle).AsInt16();
                    Vector256<short> x1 = Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(p + stride), shuffle).AsInt16();
                    Vector256<short> x2 = Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(p + (2 * stride)), shuffle).AsInt16();
                    Vector256<short> x3 = Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(p + (3 * stride)), shuffle).AsInt16();
                    h0 = Avx2.Add(h0, Avx2.MultiplyAddAdjacent(x0, kh));
                    l0 = Avx2.Add(l0, Avx2.MultiplyAddAdjacent(x0, kl));
                    h1 = Avx2.Add(h1, Avx2.MultiplyAddAdjacent(x1, kh));
                    l1 = Avx2.Add(l1, Avx2.MultiplyAddAdjacent(x1, kl));
                    h2 = Avx2.Add(h2, Avx2.MultiplyAddAdjacent(x2, kh));
                    l2 = Avx2.Add(l2, Avx2.MultiplyAddAdjacent(x2, kl));
                    h3 = Avx2.Add(h3, Avx2.MultiplyAddAdjacent(x3, kh));
                    l3 = Avx2.Add(l3, Avx2.MultiplyAddAdjacent(x3, kl));
                }

                Vector256<int> a0 = Avx2.Add(Avx2.ShiftLeftLogical(h0, ResampleCoefficients.SplitBits), l0);
                Vector256<int> a1 = Avx2.Add(Avx2.ShiftLeftLogical(h1, ResampleCoefficients.SplitBits), l1);
                Vector256<int> a2 = Avx2.Add(Avx2.ShiftLeftLogical(h2, ResampleCoefficients.SplitBits), l2);
                Vector256<int> a3 = Avx2.Add(Avx2.ShiftLeftLogical(h3, ResampleCoefficients.SplitBits), l3);

                // Rows 0|1 and 2|3 side by side, lane halves added: [R G B X] of each row.
                Vector256<int> s01 = Avx2.Add(Avx2.Permute2x128(a0, a1, 0x20), Avx2.Permute2x128(a0, a1, 0x31));
                Vector256<int> s23 = Avx2.Add(Avx2.Permute2x128(a2, a3, 0x20), Avx2.Permute2x128(a2, a3, 0x31));
                s01 = Avx2.ShiftRightArithmetic(Avx2.Add(s01, half), ResampleCoefficients.PrecisionBits);
                s23 = Avx2.ShiftRightArithmetic(Avx2.Add(s23, half), ResampleCoefficients.PrecisionBits);
                Vector256<short> w = Avx2.PackSignedSaturate(s01, s23);            // lane 0: row 0, row 2; lane 1: row 1, row 3
                Vector256<uint> b = Avx2.PackUnsignedSaturate(w, w).AsUInt32();  // elements 0, 1, 4, 5: rows 0, 2, 1, 3
                byte* d = dst + (xx * 4);
                *(uint*)d = b.GetElement(0);
                *(uint*)(d + dstStride) = b.GetElement(4);
                *(uint*)(d + (2 * dstStride)) = b.GetElement(1);
                *(uint*)(d + (3 * dstStride)) = b.GetElement(5);
            }
        }

        for (int r = 0; r < 4; r++)
        {
            MaddTail(row + (r * stride), bpp, shuffle, inWidth, dst + (r * dstStride), c, scratch, safe);
        }
    }

    private static Vector256<byte> MaddShuffle(int bpp, bool bgr)
    {
        const byte Z = 0x80;
        return bpp == 4
            ? Vector256.Create((byte)0, Z, 4, Z, 1, Z, 5, Z, 2, Z, 6, Z, Z, Z, Z, Z, 8, Z, 12, Z, 9, Z, 13, Z, 10, Z, 14, Z, Z, Z, Z, Z)
            : bgr
                ? Vector256.Create((byte)2, Z, 5, Z, 1, Z, 4, Z, 0, Z, 3, Z, Z, Z, Z, Z, 8, Z, 11, Z, 7, Z, 10, Z, 6, Z, 9, Z, Z, Z, Z, Z)
                : Vector256.Create((byte)0, Z, 3, Z, 1, Z, 4, Z, 2, Z, 5, Z, Z, Z, Z, Z, 6, Z, 9, Z, 7, Z, 10, Z, 8, Z, 11, Z, Z, Z, Z, Z);
    }

    /// <summary>
    /// The outputs [0, result) whose 16-byte loads stay inside the row. An output's last load starts at most at its
    /// last tap, xmin + n − 1, which never decreases with the output index.
    /// </summary>
    private static int MaddSafeOutputs(ResampleCoefficients c, int bpp, int inWidth)
    {
        int[] bounds = c.Bounds;
        long rowBytes = (long)inWidth * bpp;
        int safe = c.OutSize;
        while (safe > 0 && ((long)(bounds[2 * (safe - 1)] + bounds[(2 * (safe - 1)) + 1] - 1) * bpp) + 16 > rowBytes)
        {
            safe--;
        }

        return safe;
    }

    /// <summary>Outputs [from, to) of one row; <paramref name="row"/> is where input pixel <paramref name="shift"/> is.</summary>
    private static void MaddOutputs(byte* row, byte* dst, int[] bounds, short* wAll, int gStride, int bpp, Vector256<byte> shuffle, int from, int to, int shift)
    {
        Vector128<int> half = Vector128.Create(ResampleCoefficients.Half);
        for (int xx = from; xx < to; xx++)
        {
            int n = bounds[(2 * xx) + 1];
            byte* p = row + ((long)(bounds[2 * xx] - shift) * bpp);
            short* k = wAll + (xx * gStride);
            Vector256<int> accHi = Vector256<int>.Zero, accLo = Vector256<int>.Zero;
            for (int t = 0; t < n; t += 4, p += 4 * bpp, k += 32)
            {
                Vector256<short> px = Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(p), shuffle).AsInt16();
                accHi = Avx2.Add(accHi, Avx2.MultiplyAddAdjacent(px, Avx.LoadVector256(k)));
                accLo = Avx2.Add(accLo, Avx2.MultiplyAddAdjacent(px, Avx.LoadVector256(k + 16)));
            }

            Vector256<int> acc = Avx2.Add(Avx2.ShiftLeftLogical(accHi, ResampleCoefficients.SplitBits), accLo);
            Vector128<int> sum = Sse2.ShiftRightArithmetic(Sse2.Add(Sse2.Add(acc.GetLower(), acc.GetUpper()), half), ResampleCoefficients.PrecisionBits);
            Vector128<short> narrow = Sse2.PackSignedSaturate(sum, sum);
            *(uint*)(dst + (xx * 4)) = Sse2.PackUnsignedSaturate(narrow, narrow).AsUInt32().ToScalar();
        }
    }

    /// <summary>Outputs [safe, OutSize) of one row, read from a zero-padded copy of the row's tail in <paramref name="scratch"/>.</summary>
    private static void MaddTail(byte* row, int bpp, Vector256<byte> shuffle, int inWidth, byte* dst, ResampleCoefficients c, byte* scratch, int safe)
    {
        if (safe >= c.OutSize)
        {
            return;
        }

        int tailStart = c.Bounds[2 * safe];
        long tailBytes = ((long)inWidth - tailStart) * bpp;
        Buffer.MemoryCopy(row + ((long)tailStart * bpp), scratch, tailBytes, tailBytes);
        Unsafe.InitBlockUnaligned(scratch + tailBytes, 0, 32 + 16);
        fixed (short* wAll = c.WeightsMaddH)
        {
            MaddOutputs(scratch, dst, c.Bounds, wAll, c.MaddGroups * 32, bpp, shuffle, safe, c.OutSize, tailStart);
        }
    }

    /// <summary>
    /// Output row <paramref name="yy"/> of the vertical pass with exact int16 multiply-adds over pairs of input rows
    /// (same arguments as <see cref="Vertical"/>, <paramref name="bytes"/> ≥ 32; reads no row outside the output's taps).
    /// </summary>
    public static void VerticalMadd(byte* src, int stride, int rowShift, ResampleCoefficients c, int yy, byte* dst, int bytes)
    {
        int ymin = c.Bounds[2 * yy] - rowShift;
        int n = c.Bounds[(2 * yy) + 1];
        byte* src0 = src + ((long)ymin * stride);
        int pairs = (n + 1) >> 1;
        Vector256<int> half = Vector256.Create(ResampleCoefficients.Half);
        fixed (int* wAll = c.WeightsMaddV)
        {
            int* k = wAll + (yy * c.MaddPairs * 2);
            for (int x = 0; ; x += 32)
            {
                if (x > bytes - 32)
                {
                    if (x == bytes)
                    {
                        break;
                    }

                    x = bytes - 32; // the last block overlaps the previous one: same bytes again
                }

                Vector256<int> h0 = Vector256<int>.Zero, h1 = h0, h2 = h0, h3 = h0, l0 = h0, l1 = h0, l2 = h0, l3 = h0;
                byte* p = src0 + x;
                for (int j = 0; j < pairs; j++, p += 2 * (long)stride)
                {
                    Vector256<byte> a = Avx.LoadVector256(p);
                    Vector256<byte> b = 2 * j + 1 < n ? Avx.LoadVector256(p + stride) : Vector256<byte>.Zero;
                    Vector256<byte> ab0 = Avx2.UnpackLow(a, b), ab1 = Avx2.UnpackHigh(a, b);
                    Vector256<short> w0 = Avx2.UnpackLow(ab0, Vector256<byte>.Zero).AsInt16();
                    Vector256<short> w1 = Avx2.UnpackHigh(ab0, Vector256<byte>.Zero).AsInt16();
                    Vector256<short> w2 = Avx2.UnpackLow(ab1, Vector256<byte>.Zero).AsInt16();
                    Vector256<short> w3 = Avx2.UnpackHigh(ab1, Vector256<byte>.Zero).AsInt16();
                    Vector256<short> kh = Vector256.Create(k[2 * j]).AsInt16();
                    Vector256<short> kl = Vector256.Create(k[(2 * j) + 1]).AsInt16();
                    h0 = Avx2.Add(h0, Avx2.MultiplyAddAdjacent(w0, kh));
                    h1 = Avx2.Add(h1, Avx2.MultiplyAddAdjacent(w1, kh));
                    h2 = Avx2.Add(h2, Avx2.MultiplyAddAdjacent(w2, kh));
                    h3 = Avx2.Add(h3, Avx2.MultiplyAddAdjacent(w3, kh));
                    l0 = Avx2.Add(l0, Avx2.MultiplyAddAdjacent(w0, kl));
                    l1 = Avx2.Add(l1, Avx2.MultiplyAddAdjacent(w1, kl));
                    l2 = Avx2.Add(l2, Avx2.MultiplyAddAdjacent(w2, kl));
                    l3 = Avx2.Add(l3, Avx2.MultiplyAddAdjacent(w3, kl));
                }

                Vector256<int> s0 = Combine(h0, l0, half), s1 = Combine(h1, l1, half), s2 = Combine(h2, l2, half), s3 = Combine(h3, l3, half);
                Vector256<byte> packed = Avx2.PackUnsignedSaturate(Avx2.PackSignedSaturate(s0, s1), Avx2.PackSignedSaturate(s2, s3));
                Avx.Store(dst + x, packed);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<int> Combine(Vector256<int> hi, Vector256<int> lo, Vector256<int> half) =>
            Avx2.ShiftRightArithmetic(Avx2.Add(Avx2.Add(Avx2.ShiftLeftLogical(hi, ResampleCoefficients.SplitBits), lo), half), ResampleCoefficients.PrecisionBits);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Clip8(int ss)
    {
        int v = ss >> ResampleCoefficients.PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }
}
