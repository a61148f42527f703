using System.Runtime.InteropServices;
using Google.Protobuf;
using LlavaUhd.Edge.ModelBuilder.Onnx;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>
/// Weight-only blockwise 4-bit quantization to ONNX Runtime's contrib op <c>com.microsoft:MatMulNBits</c> (the op
/// onnxruntime-genai and the transformers.js <c>_q4</c> exports use; on CPU it runs MLAS's SQNBitGemm kernels, with
/// <c>accuracy_level=4</c> quantizing A to int8 per block so the GEMV uses int8 dot products).
/// <para>
/// Every <c>MatMul</c> whose B input is a 2-D float initializer [K, N] with K divisible by <c>block_size</c> becomes
/// <c>MatMulNBits(A, B_q4, scales)</c> with attributes K, N, bits=4, block_size, accuracy_level; other MatMuls, Conv and
/// Gather stay float. Contract (ONNX Runtime docs/ContribOperators.md, com.microsoft.MatMulNBits):
/// <list type="bullet">
/// <item>B: uint8 [N, K/block_size, block_size/2]: the weight transposed (one row per output column n), each row cut
/// into blocks of block_size along K, two 4-bit codes per byte, the first (even k) in the low nibble.</item>
/// <item>scales: float [N, K/block_size], row-major like B.</item>
/// <item>zero_points omitted: the default zero point 2^(bits-1) = 8, so w ≈ (q - 8) × scale with q in [0, 15].</item>
/// </list>
/// Symmetric per-block scale = max|w| / 7, q = clamp(round(w / scale), -7, 7) + 8 (code 0 unused; zero stays exact and
/// no zero-point tensor is read per block).
/// </para>
/// </summary>
public static class NBitsQuantizer
{
    public const string Domain = "com.microsoft";
    public const int Bits = 4;

    public static ModelProto Quantize(ModelProto fp32, int blockSize = 32, int accuracyLevel = 4) =>
        Quantize(fp32, blockSize, accuracyLevel, _ => Bits);

    /// <summary>
    /// As <see cref="Quantize(ModelProto, int, int)"/> with the bit width chosen per weight (4 or 8; 0 keeps that MatMul
    /// float): e.g. 4-bit layers with an 8-bit output head. 8-bit blocks hold one code per byte, w ≈ (q − 128) × scale
    /// with scale = max|w| / 127 (the op's default zero point 2^(bits−1)).
    /// </summary>
    public static ModelProto Quantize(ModelProto fp32, int blockSize, int accuracyLevel, Func<string, int> bitsFor)
    {
        ArgumentNullException.ThrowIfNull(bitsFor);
        if (blockSize < 16 || (blockSize & (blockSize - 1)) != 0)
        {
            throw new ArgumentException($"block_size must be a power of two >= 16 (got {blockSize})", nameof(blockSize));
        }

        ModelProto q = fp32.Clone();
        GraphProto g = q.Graph;
        var inits = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var packed = new Dictionary<string, (string B, string Scales, long K, long N, int Bits)>(StringComparer.Ordinal);
        int converted = 0;
        for (int i = 0; i < g.Node.Count; i++)
        {
            NodeProto node = g.Node[i];
            if (node.OpType != "MatMul" || node.Domain is not ("" or "ai.onnx")
                || !inits.TryGetValue(node.Input[1], out TensorProto? w) || w.DataType != (int)DataType.Float || w.Dims.Count != 2
                || w.Dims[0] % blockSize != 0)
            {
                continue;
            }

            int bits = bitsFor(w.Name);
            if (bits == 0)
            {
                continue;
            }

            if (bits is not (4 or 8))
            {
                throw new ArgumentException($"MatMulNBits bits must be 4 or 8 (got {bits} for {w.Name})", nameof(bitsFor));
            }

            if (!packed.TryGetValue(w.Name, out var p))
            {
                (TensorProto b, TensorProto s) = QuantizeWeight(w, blockSize, bits);
                g.Initializer.Add(b);
                g.Initializer.Add(s);
                p = (b.Name, s.Name, w.Dims[0], w.Dims[1], bits);
                packed[w.Name] = p;
            }

            var n = new NodeProto { OpType = "MatMulNBits", Domain = Domain, Name = string.IsNullOrEmpty(node.Name) ? $"MatMulNBits_{converted}" : node.Name + $"_Q{p.Bits}" };
            n.Input.AddRange([node.Input[0], p.B, p.Scales]);
            n.Output.Add(node.Output[0]);
            n.Attribute.Add(GraphBuilder.Int("K", p.K));
            n.Attribute.Add(GraphBuilder.Int("N", p.N));
            n.Attribute.Add(GraphBuilder.Int("bits", p.Bits));
            n.Attribute.Add(GraphBuilder.Int("block_size", blockSize));
            n.Attribute.Add(GraphBuilder.Int("accuracy_level", accuracyLevel));
            g.Node[i] = n;
            converted++;
        }

        // Drop float weights nothing reads any more (a weight shared with a Gather or a kept MatMul stays).
        var used = g.Node.SelectMany(n => n.Input).Concat(g.Output.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (TensorProto t in g.Initializer.Where(t => packed.ContainsKey(t.Name) && !used.Contains(t.Name)).ToList())
        {
            g.Initializer.Remove(t);
        }

        if (converted > 0 && !q.OpsetImport.Any(o => o.Domain == Domain))
        {
            q.OpsetImport.Add(new OperatorSetIdProto { Domain = Domain, Version = 1 });
        }

        q.ProducerName = "LlavaUhd.Edge.ModelBuilder nbits";
        return q;
    }

    /// <summary>Number of MatMulNBits nodes in a graph.</summary>
    public static int CountNBits(ModelProto model) => model.Graph.Node.Count(n => n.OpType == "MatMulNBits" && n.Domain == Domain);

    /// <summary>W [K, N] (row-major) → B uint8 [N, K/bs, bs·bits/8] and scales float [N, K/bs].</summary>
    public static (TensorProto B, TensorProto Scales) QuantizeWeight(TensorProto w, int blockSize, int bits = Bits)
    {
        ReadOnlySpan<float> data = MemoryMarshal.Cast<byte, float>(w.RawData.Span);
        int k = (int)w.Dims[0], n = (int)w.Dims[1];
        int blocks = k / blockSize, blob = blockSize * bits / 8;
        int qmax = bits == 8 ? 127 : 7;
        byte[] b = new byte[(long)n * blocks * blob];
        float[] scales = new float[n * blocks];
        Span<float> column = stackalloc float[blockSize];
        for (int col = 0; col < n; col++)
        {
            for (int blk = 0; blk < blocks; blk++)
            {
                float max = 0;
                for (int j = 0; j < blockSize; j++)
                {
                    column[j] = data[((blk * blockSize) + j) * n + col];
                    max = MathF.Max(max, MathF.Abs(column[j]));
                }

                float scale = max > 0 ? max / qmax : 1f;
                scales[(col * blocks) + blk] = scale;
                long offset = ((long)col * blocks + blk) * blob;
                if (bits == 8)
                {
                    for (int j = 0; j < blockSize; j++)
                    {
                        b[offset + j] = (byte)((int)Math.Clamp(MathF.Round(column[j] / scale), -127, 127) + 128);
                    }

                    continue;
                }

                for (int j = 0; j < blockSize; j += 2)
                {
                    int lo = Code(column[j], scale), hi = Code(column[j + 1], scale);
                    b[offset + (j / 2)] = (byte)(lo | (hi << 4));
                }
            }
        }

        var bt = new TensorProto { Name = w.Name + $"_q{bits}", DataType = (int)DataType.Uint8, RawData = ByteString.CopyFrom(b) };
        bt.Dims.AddRange([n, blocks, blob]);
        return (bt, GraphBuilder.FloatTensor(w.Name + $"_q{bits}_scales", scales, n, blocks));
    }

    /// <summary>The float weights [K, N] a MatMulNBits initializer pair stands for (reference dequantization).</summary>
    public static float[] Dequantize(TensorProto b, TensorProto scales, int k, int n, int blockSize, int bits = Bits)
    {
        ReadOnlySpan<byte> bytes = b.RawData.Span;
        ReadOnlySpan<float> s = MemoryMarshal.Cast<byte, float>(scales.RawData.Span);
        int blocks = k / blockSize, blob = blockSize * bits / 8;
        float[] w = new float[k * n];
        for (int col = 0; col < n; col++)
        {
            for (int kk = 0; kk < k; kk++)
            {
                int blk = kk / blockSize, j = kk % blockSize;
                long at = ((col * blocks) + blk) * (long)blob;
                int code = bits == 8 ? bytes[(int)(at + j)] - 128 : (((j & 1) == 0 ? bytes[(int)(at + (j / 2))] & 0x0F : bytes[(int)(at + (j / 2))] >> 4) - 8);
                w[(kk * n) + col] = code * s[(col * blocks) + blk];
            }
        }

        return w;
    }

    private static int Code(float v, float scale) => (int)Math.Clamp(MathF.Round(v / scale), -7, 7) + 8;
}
