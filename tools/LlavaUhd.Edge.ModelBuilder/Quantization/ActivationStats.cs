namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>Per-tensor statistics of |x| collected over the calibration runs.</summary>
internal sealed class ActivationStats
{
    public const int Bins = 2048;

    public float MaxAbs { get; private set; }

    public long[]? Histogram { get; private set; }

    public void ObserveMax(ReadOnlySpan<float> values)
    {
        float m = MaxAbs;
        foreach (float v in values)
        {
            float a = MathF.Abs(v);
            if (a > m && float.IsFinite(a))
            {
                m = a;
            }
        }

        MaxAbs = m;
    }

    public void ObserveHistogram(ReadOnlySpan<float> values)
    {
        Histogram ??= new long[Bins];
        if (MaxAbs <= 0)
        {
            return;
        }

        float scale = Bins / MaxAbs;
        foreach (float v in values)
        {
            int bin = (int)(MathF.Abs(v) * scale);
            Histogram[Math.Clamp(bin, 0, Bins - 1)]++;
        }
    }

    public float Threshold(CalibrationMethod method)
    {
        if (method == CalibrationMethod.MinMax || Histogram is null || MaxAbs <= 0)
        {
            return MaxAbs;
        }

        float width = MaxAbs / Bins;
        return method == CalibrationMethod.Percentile ? PercentileThreshold(Histogram, 0.9999) * width : EntropyThreshold(Histogram) * width;
    }

    private static float PercentileThreshold(long[] hist, double percentile)
    {
        long total = hist.Sum();
        long target = (long)Math.Ceiling(total * percentile);
        long seen = 0;
        for (int i = 0; i < hist.Length; i++)
        {
            seen += hist[i];
            if (seen >= target)
            {
                return i + 1;
            }
        }

        return hist.Length;
    }

    private static float EntropyThreshold(long[] hist)
    {
        const int Levels = 128;
        double best = double.MaxValue;
        int bestI = hist.Length;
        for (int i = Levels; i <= hist.Length; i += 16)
        {
            double[] p = new double[i];
            for (int k = 0; k < i; k++)
            {
                p[k] = hist[k];
            }

            for (int k = i; k < hist.Length; k++)
            {
                p[i - 1] += hist[k];
            }

            double[] q = new double[i];
            for (int j = 0; j < Levels; j++)
            {
                int start = j * i / Levels, end = (j + 1) * i / Levels;
                double sum = 0;
                int nonZero = 0;
                for (int k = start; k < end; k++)
                {
                    sum += hist[k];
                    nonZero += hist[k] != 0 ? 1 : 0;
                }

                for (int k = start; k < end; k++)
                {
                    q[k] = hist[k] != 0 ? sum / nonZero : 0;
                }
            }

            double ps = p.Sum(), qs = q.Sum();
            if (ps == 0 || qs == 0)
            {
                continue;
            }

            double kl = 0;
            for (int k = 0; k < i; k++)
            {
                if (p[k] > 0)
                {
                    double pk = p[k] / ps;
                    double qk = Math.Max(q[k] / qs, 1e-12);
                    kl += pk * Math.Log(pk / qk);
                }
            }

            if (kl < best)
            {
                best = kl;
                bestI = i;
            }
        }

        return bestI;
    }
}
