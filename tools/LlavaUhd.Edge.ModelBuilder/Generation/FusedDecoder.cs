using System.Runtime.InteropServices;
using LlavaUhd.Edge.ModelBuilder.Onnx;
using LlavaUhd.Edge.ModelBuilder.Quantization;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// The CPU decoder variant (docs/cpu-decoder.md): the same weights as a package's standard
/// <c>decoder_model_merged</c>, rewired onto ONNX Runtime's fused contrib ops — <c>GroupQueryAttention</c> with the
/// rotary embedding inside and one KV buffer per layer shared between past and present (the op appends in place; no
/// cache copy per step) fed by one packed Q/K/V projection per layer, <c>SkipSimplifiedLayerNormalization</c> for every residual add + RMSNorm, the logits of the
/// last position only, and optionally <c>MatMulNBits</c> weights (8-bit, or 4-bit with an 8-bit output head).
/// <para>
/// Contract: inputs <c>inputs_embeds [1, S, H]</c> (float32), <c>seqlens_k [1]</c> (int32, past + S − 1),
/// <c>total_sequence_length []</c> (int32, past + S), <c>past_key_values.{i}.key|value [1, kvH, C, D]</c>; outputs
/// <c>logits [1, 1, V]</c> and <c>present.{i}.key|value [1, kvH, C, D]</c>, bound to the same buffers as the past. C,
/// the buffer's capacity, is chosen by the runtime (at most the cos/sin tables' <c>maxContext</c>).
/// </para>
/// </summary>
public static class FusedDecoder
{
    private const string Ms = "com.microsoft";


    /// <summary>Builds the fused graph from a standard decoder built by <see cref="ModelGraphs.Decoder"/> (its weights are read by name).</summary>
    /// <param name="bits">0: float weights; 8: every linear layer 8-bit; 4: 4-bit layers with an 8-bit output head.</param>
    /// <param name="ropeTheta">The rotary base, needed when the graph has no <c>rope.inv_freq</c> table (an exporter's graph; config.json's <c>rope_theta</c>).</param>
    public static ModelProto Build(ModelProto standard, int maxContext = 8192, int bits = 0, int blockSize = 32, float eps = 1e-5f, float? ropeTheta = null)
    {
        ArgumentNullException.ThrowIfNull(standard);
        if (bits is not (0 or 4 or 8))
        {
            throw new ArgumentException($"bits must be 0, 4 or 8 (got {bits})", nameof(bits));
        }

        // the model builder's own names when the graph has them, else the weights found by the graph's structure
        Dictionary<string, TensorProto> inits = standard.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (!inits.ContainsKey("model.layers.0.self_attn.q_proj.weight"))
        {
            foreach ((string name, TensorProto t) in DecoderWeights.FromStructure(standard))
            {
                inits[name] = t;
            }
        }

        TensorProto Weight(string name) => inits.TryGetValue(name, out TensorProto? t)
            ? t
            : throw new InvalidDataException($"the decoder has no weight '{name}'");

        int layers = standard.Graph.Input.Count(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal) && i.Name.EndsWith(".key", StringComparison.Ordinal));
        ValueInfoProto past0 = standard.Graph.Input.First(i => i.Name == "past_key_values.0.key");
        long kvh = past0.Type.TensorType.Shape.Dim[1].DimValue;
        long hd = past0.Type.TensorType.Shape.Dim[3].DimValue;
        TensorProto q0 = Weight("model.layers.0.self_attn.q_proj.weight");
        long h = q0.Dims[0];
        long nh = q0.Dims[1] / hd;
        long vocab = Weight("lm_head.weight").Dims[1];
        float[] invFreq = inits.TryGetValue("rope.inv_freq", out TensorProto? table)
            ? MemoryMarshal.Cast<byte, float>(table.RawData.Span).ToArray()
            : ropeTheta is float theta
                ? [.. Enumerable.Range(0, (int)hd / 2).Select(i => 1f / MathF.Pow(theta, 2f * i / hd))]
                : throw new InvalidDataException("the decoder has no rope.inv_freq table: pass the rotary base (config.json rope_theta)");
        if (hd % 16 != 0)
        {
            throw new InvalidDataException($"the decoder's head size is {hd}: ONNX Runtime's GroupQueryAttention needs a multiple of 16 (the standard variants serve this model)");
        }

        if (kvh <= 0 || hd <= 0 || invFreq.Length * 2 != hd)
        {
            throw new InvalidDataException($"unexpected decoder shapes: kv heads {kvh}, head dim {hd}, rotary table {invFreq.Length}");
        }

        var g = new GraphBuilder("decoder_model_merged", 0);
        string Use(string name)
        {
            if (!g.Graph.Initializer.Any(t => t.Name == name))
            {
                g.Graph.Initializer.Add(Weight(name));
            }

            return name;
        }

        g.Input("inputs_embeds", DataType.Float, 1L, "sequence_length", h);
        g.Input("seqlens_k", DataType.Int32, 1L);
        g.Input("total_sequence_length", DataType.Int32);
        for (int l = 0; l < layers; l++)
        {
            g.Input($"past_key_values.{l}.key", DataType.Float, 1L, kvh, "max_sequence_length", hd);
            g.Input($"past_key_values.{l}.value", DataType.Float, 1L, kvh, "max_sequence_length", hd);
        }

        g.Output("logits", DataType.Float, 1L, 1L, vocab);
        for (int l = 0; l < layers; l++)
        {
            g.Output($"present.{l}.key", DataType.Float, 1L, kvh, "max_sequence_length", hd);
            g.Output($"present.{l}.value", DataType.Float, 1L, kvh, "max_sequence_length", hd);
        }

        // cos/sin tables [maxContext, D/2] for the op's rotary embedding (rotate-half, as the standard graph's)
        float[] cos = new float[maxContext * invFreq.Length];
        float[] sin = new float[cos.Length];
        for (int pos = 0; pos < maxContext; pos++)
        {
            for (int i = 0; i < invFreq.Length; i++)
            {
                float angle = pos * invFreq[i];
                cos[(pos * invFreq.Length) + i] = MathF.Cos(angle);
                sin[(pos * invFreq.Length) + i] = MathF.Sin(angle);
            }
        }

        string cosCache = g.Floats("rope.cos_cache", cos, maxContext, invFreq.Length);
        string sinCache = g.Floats("rope.sin_cache", sin, maxContext, invFreq.Length);

        // layer 0's input norm, x / sqrt(mean(x²) + eps) · w (ONNX Runtime fuses it into SimplifiedLayerNormalization)
        string residual = "inputs_embeds";
        string meanSquare = g.Node("ReduceMean", [g.Mul(residual, residual)], null, GraphBuilder.Ints("axes", -1), GraphBuilder.Int("keepdims", 1));
        string a = g.Mul(g.Node("Div", residual, g.Node("Sqrt", g.Add(meanSquare, g.ScalarF(eps)))), Use("model.layers.0.input_layernorm.weight"));
        for (int l = 0; l < layers; l++)
        {
            string n = $"model.layers.{l}";
            // one projection for Q, K and V (GroupQueryAttention's packed input), Q's columns pre-scaled by 1/√D
            string qkv = g.MatMul(a, PackedQkv(n));
            string attn = g.Fresh("attn");
            Multi("GroupQueryAttention", [qkv, "", "", $"past_key_values.{l}.key", $"past_key_values.{l}.value", "seqlens_k", "total_sequence_length", cosCache, sinCache],
                [attn, $"present.{l}.key", $"present.{l}.value"],
                GraphBuilder.Int("num_heads", nh), GraphBuilder.Int("kv_num_heads", kvh), GraphBuilder.Int("do_rotary", 1), GraphBuilder.Int("rotary_interleaved", 0),
                GraphBuilder.Float("scale", 1f));
            string o = g.MatMul(attn, Use(n + ".self_attn.o_proj.weight"));
            (string m, residual) = SkipNorm(o, residual, Use(n + ".post_attention_layernorm.weight"));
            string gate = g.MatMul(m, Use(n + ".mlp.gate_proj.weight"));
            string up = g.MatMul(m, Use(n + ".mlp.up_proj.weight"));
            string act = g.Mul(g.Mul(gate, g.Node("Sigmoid", gate)), up);
            string down = g.MatMul(act, Use(n + ".mlp.down_proj.weight"));
            string nextNorm = l + 1 < layers ? $"model.layers.{l + 1}.input_layernorm.weight" : "model.norm.weight";
            (a, residual) = SkipNorm(down, residual, Use(nextNorm));
        }

        // the last position only: [1, S, H] → [1, 1, H] → logits [1, 1, V]
        string last = g.Node("Slice", a, g.Vector(-1), g.Vector(long.MaxValue), g.Vector(1));
        g.Node("MatMul", [last, Use("lm_head.weight")], "logits");

        ModelProto model = g.Build("LlavaUhd.Edge.ModelBuilder cpu decoder");
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = Ms, Version = 1 });
        model.MetadataProps.Add(new StringStringEntryProto { Key = LlavaUhd.Edge.Inference.Models.ModelContracts.MaxContextMetadataKey, Value = maxContext.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        if (bits == 0)
        {
            return model;
        }

        // 8-bit everywhere, or 4-bit layers with an 8-bit head (the head's error shows in every logit)
        return NBitsQuantizer.Quantize(model, blockSize, accuracyLevel: 4, name => bits == 8 || name == "lm_head.weight" ? 8 : 4);

        // [H, (nh + 2·kvh)·D]: each row is q's row × 1/√D, then k's and v's rows. The attention scale folded into the
        // weights (a power of two for D = 64, 16, 256: exact) lets the op run Q·Kᵀ with α = 1, which takes ONNX
        // Runtime's one-row kernel for a decode step instead of packing Kᵀ for every head (docs/cpu-decoder.md).
        string PackedQkv(string layer)
        {
            string name = layer + ".self_attn.qkv_proj.weight";
            float[] q = Floats(Weight(layer + ".self_attn.q_proj.weight"));
            float[] k = Floats(Weight(layer + ".self_attn.k_proj.weight"));
            float[] v = Floats(Weight(layer + ".self_attn.v_proj.weight"));
            int qn = (int)(nh * hd);
            int kn = (int)(kvh * hd);
            int width = qn + (2 * kn);
            float scale = 1f / MathF.Sqrt(hd);
            float[] packed = new float[h * width];
            for (int row = 0; row < h; row++)
            {
                Span<float> dst = packed.AsSpan(row * width, width);
                ReadOnlySpan<float> qRow = q.AsSpan(row * qn, qn);
                for (int c = 0; c < qn; c++)
                {
                    dst[c] = qRow[c] * scale;
                }

                k.AsSpan(row * kn, kn).CopyTo(dst[qn..]);
                v.AsSpan(row * kn, kn).CopyTo(dst[(qn + kn)..]);
            }

            return g.Floats(name, packed, h, width);
        }

        float[] Floats(TensorProto t)
        {
            long count = t.Dims.Aggregate(1L, (x, y) => x * y);
            if (t.DataType != (int)DataType.Float || t.RawData.Length != count * sizeof(float))
            {
                throw new InvalidDataException($"the decoder's weight '{t.Name}' is not float32 raw data (dtype {t.DataType}, {t.RawData.Length} bytes for {count} values)");
            }

            return MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        }

        (string Normed, string Sum) SkipNorm(string x, string skip, string gamma)
        {
            string normed = g.Fresh("normed");
            string sum = g.Fresh("residual");
            Multi("SkipSimplifiedLayerNormalization", [x, skip, gamma], [normed, "", "", sum], GraphBuilder.Float("epsilon", eps));
            return (normed, sum);
        }

        void Multi(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Domain = Ms, Name = g.Fresh("n_" + op) };
            node.Input.AddRange(inputs);
            node.Output.AddRange(outputs);
            node.Attribute.AddRange(attributes);
            g.Graph.Node.Add(node);
        }
    }
}
