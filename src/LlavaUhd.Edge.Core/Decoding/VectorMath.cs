using System.Numerics;
using System.Runtime.InteropServices;

namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>The few vector kernels the decoder needs per token, vectorised with <see cref="Vector{T}"/>.</summary>
public static class VectorMath
{
    /// <summary>Index of the largest value (the first one on ties); NaN is never chosen over a number.</summary>
    public static int IndexOfMax(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            throw new ArgumentException("No values.", nameof(values));
        }

        int i = 0;
        float best = float.NegativeInfinity;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count * 2)
        {
            ReadOnlySpan<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            var max = new Vector<float>(float.NegativeInfinity);
            foreach (Vector<float> v in vectors)
            {
                max = Vector.Max(max, v);
            }

            for (int lane = 0; lane < Vector<float>.Count; lane++)
            {
                best = Math.Max(best, max[lane]);
            }

            i = vectors.Length * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            if (values[i] > best)
            {
                best = values[i];
            }
        }

        int index = values.IndexOf(best);
        return index >= 0 ? index : 0;
    }

    /// <summary>Numerically stable softmax of <paramref name="values"/> into <paramref name="destination"/>.</summary>
    public static void SoftMax(ReadOnlySpan<float> values, Span<float> destination)
    {
        float max = values[IndexOfMax(values)];
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float e = MathF.Exp(values[i] - max);
            destination[i] = e;
            sum += e;
        }

        float inv = (float)(1.0 / sum);
        Scale(destination[..values.Length], inv);
    }

    /// <summary>Multiplies every value by <paramref name="factor"/> in place.</summary>
    public static void Scale(Span<float> values, float factor)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Span<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (int v = 0; v < vectors.Length; v++)
            {
                vectors[v] *= factor;
            }

            i = vectors.Length * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            values[i] *= factor;
        }
    }

    /// <summary>Cosine similarity of two equally long vectors (1 = same direction).</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException("Vectors differ in length.", nameof(b));
        }

        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / Math.Sqrt(na * nb);
    }
}
