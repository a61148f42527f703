using System.Globalization;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>
/// The fixed-point weights of one resampling pass (one axis, <see cref="InSize"/> → <see cref="OutSize"/>), computed
/// exactly as Pillow's <c>Resample.c</c> does: <c>precompute_coeffs</c> in double (support widened by the scale when
/// shrinking, bounds rounded with <c>(int)(x + 0.5)</c>, weights normalised to sum 1), then
/// <c>normalize_coeffs_8bpc</c> to <see cref="PrecisionBits"/> = 22 fractional bits, rounding half away from zero.
/// Immutable; cached per (in, out, filter) by <see cref="ResampleCoefficientCache"/>.
/// </summary>
public sealed class ResampleCoefficients
{
    /// <summary>Pillow's <c>PRECISION_BITS</c> for 8-bit images: 32 − 8 − 2.</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>The rounding offset every accumulator starts from: 1 &lt;&lt; (PRECISION_BITS − 1).</summary>
    public const int Half = 1 << (PrecisionBits - 1);

    private ResampleCoefficients(int inSize, int outSize, ResampleFilter filter, int taps, int[] bounds, int[] weights)
    {
        InSize = inSize;
        OutSize = outSize;
        Filter = filter;
        Taps = taps;
        Bounds = bounds;
        Weights = weights;

        // The SIMD horizontal kernel reads two taps at a time, each weight repeated for the 4 bytes of a pixel.
        PaddedTaps = (taps + 1) & ~1;
        Weights4 = new int[outSize * PaddedTaps * 4];
        for (int o = 0; o < outSize; o++)
        {
            for (int t = 0; t < taps; t++)
            {
                int w = weights[(o * taps) + t];
                int at = ((o * PaddedTaps) + t) * 4;
                Weights4[at] = w;
                Weights4[at + 1] = w;
                Weights4[at + 2] = w;
                Weights4[at + 3] = w;
            }
        }

        // The int16 multiply-add kernels split each weight exactly: w = hi · 2^11 + lo, lo in [0, 2^11), |hi| ≤ 2^11.
        // Horizontal: per output, groups of 4 taps, each group a 256-bit hi vector then a lo vector; lane 0 holds
        // (w0, w1) × 4 channels, lane 1 (w2, w3) × 4 (16 shorts each).
        MaddGroups = (taps + 3) / 4;
        WeightsMaddH = new short[outSize * MaddGroups * 32];
        // Vertical: per output, pairs of taps as int32 (hi_t | hi_t+1 << 16) then (lo_t | lo_t+1 << 16).
        MaddPairs = (taps + 1) / 2;
        WeightsMaddV = new int[outSize * MaddPairs * 2];
        for (int o = 0; o < outSize; o++)
        {
            for (int t = 0; t < taps; t++)
            {
                int w = weights[(o * taps) + t];
                short hi = (short)(w >> SplitBits);
                short lo = (short)(w & ((1 << SplitBits) - 1));
                int g = t >> 2, lane = (t >> 1) & 1, odd = t & 1;
                int at = (((o * MaddGroups) + g) * 32) + (lane * 8) + odd;
                for (int c = 0; c < 4; c++)
                {
                    WeightsMaddH[at + (2 * c)] = hi;
                    WeightsMaddH[at + 16 + (2 * c)] = lo;
                }

                int pv = ((o * MaddPairs) + (t >> 1)) * 2;
                WeightsMaddV[pv] |= (ushort)hi << (16 * odd);
                WeightsMaddV[pv + 1] |= (ushort)lo << (16 * odd);
            }
        }
    }

    /// <summary>The bits of a weight's low part in the int16 multiply-add kernels (w = hi · 2^SplitBits + lo).</summary>
    internal const int SplitBits = 11;

    /// <summary>Taps rounded up to groups of 4 (<see cref="WeightsMaddH"/>).</summary>
    internal int MaddGroups { get; }

    /// <summary>Taps rounded up to pairs (<see cref="WeightsMaddV"/>).</summary>
    internal int MaddPairs { get; }

    /// <summary>The horizontal int16 multiply-add layout (see the constructor).</summary>
    internal short[] WeightsMaddH { get; }

    /// <summary>The vertical int16 multiply-add layout (see the constructor).</summary>
    internal int[] WeightsMaddV { get; }

    public int InSize { get; }

    public int OutSize { get; }

    public ResampleFilter Filter { get; }

    /// <summary>Pillow's <c>ksize</c>: the most taps any output sample uses (2·⌈support⌉ + 1).</summary>
    public int Taps { get; }

    /// <summary><see cref="Taps"/> rounded up to even (the layout of <see cref="Weights4"/>).</summary>
    public int PaddedTaps { get; }

    /// <summary>Per output sample: the first input sample and the number of taps (<c>xmin</c>, <c>xmax − xmin</c>).</summary>
    internal int[] Bounds { get; }

    /// <summary>Per output sample, <see cref="Taps"/> fixed-point weights (zero past the sample's tap count).</summary>
    internal int[] Weights { get; }

    /// <summary>Per output sample, <see cref="PaddedTaps"/> × 4 weights (each repeated for R, G, B, X).</summary>
    internal int[] Weights4 { get; }

    /// <summary>The first input sample any output uses.</summary>
    public int First => Bounds[0];

    /// <summary>One past the last input sample any output uses.</summary>
    public int Last => Bounds[(2 * OutSize) - 2] + Bounds[(2 * OutSize) - 1];

    public static double Support(ResampleFilter filter) => filter switch
    {
        ResampleFilter.Box => 0.5,
        ResampleFilter.Bilinear => 1.0,
        ResampleFilter.Hamming => 1.0,
        ResampleFilter.Bicubic => 2.0,
        ResampleFilter.Lanczos => 3.0,
        _ => throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"Resample filter {filter} is not supported by the convolution resampler (use Box, Bilinear, Hamming, Bicubic or Lanczos).")),
    };

    /// <summary>Pillow's kernels, verbatim.</summary>
    public static double Kernel(ResampleFilter filter, double x)
    {
        switch (filter)
        {
            case ResampleFilter.Box:
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            case ResampleFilter.Bilinear:
                x = Math.Abs(x);
                return x < 1.0 ? 1.0 - x : 0.0;
            case ResampleFilter.Hamming:
                x = Math.Abs(x);
                if (x == 0.0)
                {
                    return 1.0;
                }

                if (x >= 1.0)
                {
                    return 0.0;
                }

                x *= Math.PI;
                return Math.Sin(x) / x * (0.54 + (0.46 * Math.Cos(x)));
            case ResampleFilter.Bicubic:
                const double a = -0.5;
                x = Math.Abs(x);
                if (x < 1.0)
                {
                    return ((((a + 2.0) * x) - (a + 3.0)) * x * x) + 1;
                }

                if (x < 2.0)
                {
                    return ((((x - 5) * x) + 8) * x - 4) * a;
                }

                return 0.0;
            case ResampleFilter.Lanczos:
                return x >= -3.0 && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0;
            default:
                throw new NotSupportedException($"Resample filter {filter} is not supported.");
        }
    }

    /// <summary>Computes the coefficients for resizing <paramref name="inSize"/> samples to <paramref name="outSize"/>.</summary>
    public static ResampleCoefficients Compute(int inSize, int outSize, ResampleFilter filter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outSize, 1);
        double support0 = Support(filter);

        // in0 = 0, in1 = inSize (the box is the whole image: the plan crops first).
        double scale = (double)(float)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = support0 * filterScale;
        int taps = ((int)Math.Ceiling(support) * 2) + 1;
        int[] bounds = new int[outSize * 2];
        int[] weights = new int[outSize * taps];
        double[] k = new double[taps];
        double ss = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0)
            {
                xmin = 0;
            }

            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize)
            {
                xmax = inSize;
            }

            xmax -= xmin;
            for (int x = 0; x < xmax; x++)
            {
                double w = Kernel(filter, (x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }

            for (int x = 0; x < xmax; x++)
            {
                if (ww != 0.0)
                {
                    k[x] /= ww;
                }

                // normalize_coeffs_8bpc
                double v = k[x] * (1 << PrecisionBits);
                weights[(xx * taps) + x] = k[x] < 0 ? (int)(-0.5 + v) : (int)(0.5 + v);
            }

            bounds[xx * 2] = xmin;
            bounds[(xx * 2) + 1] = xmax;
        }

        return new ResampleCoefficients(inSize, outSize, filter, taps, bounds, weights);
    }

    private static double Sinc(double x)
    {
        if (x == 0.0)
        {
            return 1.0;
        }

        x *= Math.PI;
        return Math.Sin(x) / x;
    }
}
