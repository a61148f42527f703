using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>
/// Dynamic quantization of the linear layers onto ONNX Runtime's <c>com.microsoft:DynamicQuantizeMatMul</c>: int8
/// weights with a symmetric scale per output column (max|w| / the range's largest code, zero point 0), the activations
/// quantized to uint8 per call from their own range — no calibration, unlike static QDQ (docs/cpu-decoder.md, "The
/// encoder"). The kernels are the same u8·s8 ones, so the weight range follows <see cref="Int8WeightRanges"/>: full
/// [-127, 127] where they cannot saturate, [-64, 64] on x86-64 without VNNI.
/// Every <c>MatMul</c> whose B input is a 2-D float initializer [K, N] becomes
/// <c>DynamicQuantizeMatMul(A, B_int8 [K, N], b_scale [N], b_zero_point [N])</c>; other operators stay float.
/// </summary>
public static class DynamicQuantizer
{
    /// <param name="range">Resolved (<see cref="WeightRange.Full"/> or <see cref="WeightRange.Reduced"/>): see <see cref="Int8WeightRanges.Resolve"/>.</param>
    public static ModelProto Quantize(ModelProto fp32, WeightRange range)
    {
        ArgumentNullException.ThrowIfNull(fp32);
        if (range == WeightRange.Auto)
        {
            throw new ArgumentException("resolve the weight range for the target CPU first (Int8WeightRanges.Resolve)", nameof(range));
        }

        int max = Int8WeightRanges.MaxQuantized(range);
        ModelProto q = fp32.Clone();
        GraphProto g = q.Graph;
        var inits = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var done = new Dictionary<string, (string B, string Scale, string Zero)>(StringComparer.Ordinal);
        for (int i = 0; i < g.Node.Count; i++)
        {
            NodeProto node = g.Node[i];
            if (node.OpType != "MatMul" || node.Domain is not ("" or "ai.onnx")
                || !inits.TryGetValue(node.Input[1], out TensorProto? w) || w.DataType != (int)DataType.Float || w.Dims.Count != 2)
            {
                continue;
            }

            if (!done.TryGetValue(w.Name, out var p))
            {
                p = QuantizeWeight(g, w, max);
                done[w.Name] = p;
            }

            var n = new NodeProto { OpType = "DynamicQuantizeMatMul", Domain = NBitsQuantizer.Domain, Name = (string.IsNullOrEmpty(node.Name) ? $"MatMul_{i}" : node.Name) + "_dyn" };
            n.Input.AddRange([node.Input[0], p.B, p.Scale, p.Zero]);
            n.Output.Add(node.Output[0]);
            g.Node[i] = n;
        }

        var used = g.Node.SelectMany(n => n.Input).Concat(g.Output.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (TensorProto t in g.Initializer.Where(t => done.ContainsKey(t.Name) && !used.Contains(t.Name)).ToList())
        {
            g.Initializer.Remove(t);
        }

        if (!q.OpsetImport.Any(o => o.Domain == NBitsQuantizer.Domain))
        {
            q.OpsetImport.Add(new OperatorSetIdProto { Domain = NBitsQuantizer.Domain, Version = 1 });
        }

        return q;
    }

    private static (string B, string Scale, string Zero) QuantizeWeight(GraphProto g, TensorProto w, int max)
    {
        int k = (int)w.Dims[0], n = (int)w.Dims[1];
        ReadOnlySpan<float> data = MemoryMarshal.Cast<byte, float>(w.RawData.Span);
        if (data.Length != k * n)
        {
            throw new InvalidDataException($"weight '{w.Name}' is not raw float32 data of [{k}, {n}]");
        }

        float[] scale = new float[n];
        for (int r = 0; r < k; r++)
        {
            ReadOnlySpan<float> row = data.Slice(r * n, n);
            for (int c = 0; c < n; c++)
            {
                scale[c] = MathF.Max(scale[c], MathF.Abs(row[c]));
            }
        }

        for (int c = 0; c < n; c++)
        {
            scale[c] = scale[c] > 0 ? scale[c] / max : 1f;
        }

        sbyte[] codes = new sbyte[k * n];
        for (int r = 0; r < k; r++)
        {
            for (int c = 0; c < n; c++)
            {
                codes[(r * n) + c] = (sbyte)Math.Clamp(MathF.Round(data[(r * n) + c] / scale[c]), -max, max);
            }
        }

        var b = new TensorProto { Name = w.Name + "_int8", DataType = (int)DataType.Int8, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(codes.AsSpan())) };
        b.Dims.AddRange([k, n]);
        var s = new TensorProto { Name = w.Name + "_scale", DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(scale.AsSpan())) };
        s.Dims.Add(n);
        var z = new TensorProto { Name = w.Name + "_zero_point", DataType = (int)DataType.Int8, RawData = ByteString.CopyFrom(new byte[n]) };
        z.Dims.Add(n);
        g.Initializer.Add(b);
        g.Initializer.Add(s);
        g.Initializer.Add(z);
        return (b.Name, s.Name, z.Name);
    }
}
