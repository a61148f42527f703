using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// Finds a Llama-style decoder's weights in a standard <c>decoder_model_merged</c> graph by its structure, not by the
/// initializers' names (an exporter names them <c>onnx::MatMul_1234</c>): for each layer, the K and V projections are
/// the weight MatMuls that feed <c>present.{i}.key</c> / <c>present.{i}.value</c>; Q is the other projection of the
/// same normalised input, whose RMSNorm gain is the <c>Mul</c> by a [H] initializer that produced it; then, in graph
/// order, O ([heads·D, H]), the MLP's gate (the one whose output goes through a Sigmoid) and up ([H, I]), down
/// ([I, H]); the post-attention norm is the gain in front of gate/up; the final norm and <c>lm_head</c> ([H, V]) end the
/// graph (docs/cpu-decoder.md, "Weights").
/// </summary>
public static class DecoderWeights
{
    /// <summary>The weights under the model builder's names (<c>model.layers.{i}.self_attn.q_proj.weight</c>, …), found by structure.</summary>
    public static Dictionary<string, TensorProto> FromStructure(ModelProto decoder)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        GraphProto g = decoder.Graph;
        Dictionary<string, TensorProto> inits = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Dictionary<string, NodeProto> producer = new(StringComparer.Ordinal);
        Dictionary<string, List<NodeProto>> consumers = new(StringComparer.Ordinal);
        var order = new Dictionary<NodeProto, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < g.Node.Count; i++)
        {
            NodeProto n = g.Node[i];
            order[n] = i;
            foreach (string o in n.Output)
            {
                producer[o] = n;
            }

            foreach (string input in n.Input)
            {
                (consumers.TryGetValue(input, out List<NodeProto>? list) ? list : consumers[input] = []).Add(n);
            }
        }

        TensorProto? WeightOf(NodeProto n) =>
            n.OpType == "MatMul" && n.Input.Count == 2 && inits.TryGetValue(n.Input[1], out TensorProto? w) && w.Dims.Count == 2 && w.DataType == (int)DataType.Float ? w : null;

        // the weight MatMul upstream of a tensor, through reshapes, transposes, rotary arithmetic and concatenations
        NodeProto TraceToMatMul(string tensor, string what)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var queue = new Queue<string>([tensor]);
            NodeProto? best = null;
            while (queue.Count > 0)
            {
                string t = queue.Dequeue();
                if (!seen.Add(t) || !producer.TryGetValue(t, out NodeProto? n))
                {
                    continue;
                }

                if (WeightOf(n) is not null)
                {
                    if (best is null || order[n] > order[best])
                    {
                        best = n;   // the latest one: the projection itself, not one of an earlier layer
                    }

                    continue;
                }

                foreach (string input in n.Input.Where(i => !inits.ContainsKey(i)))
                {
                    queue.Enqueue(input);
                }
            }

            return best ?? throw new InvalidDataException($"no weight MatMul feeds {what}");
        }

        TensorProto GainOf(string tensor, string what)
        {
            NodeProto n = producer.TryGetValue(tensor, out NodeProto? p) ? p : throw new InvalidDataException($"{what}: '{tensor}' has no producer");
            for (int hop = 0; hop < 4; hop++)
            {
                if (n.OpType is "Mul" or "SimplifiedLayerNormalization" or "SkipSimplifiedLayerNormalization" or "RMSNormalization")
                {
                    foreach (string input in n.Input)
                    {
                        if (inits.TryGetValue(input, out TensorProto? w) && w.Dims.Count == 1 && w.Dims[0] > 1)
                        {
                            return w;
                        }
                    }
                }

                if (n.Input.Count == 0 || !producer.TryGetValue(n.Input[0], out NodeProto? up))
                {
                    break;
                }

                n = up;
            }

            throw new InvalidDataException($"no RMSNorm gain in front of {what}");
        }

        int layers = g.Input.Count(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal) && i.Name.EndsWith(".key", StringComparison.Ordinal));
        List<NodeProto> weighted = [.. g.Node.Where(n => WeightOf(n) is not null)];
        var result = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        void Put(string name, TensorProto t)
        {
            TensorProto copy = t.Clone();
            copy.Name = name;
            result[name] = copy;
        }

        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}";
            NodeProto k = TraceToMatMul($"present.{l}.key", $"present.{l}.key");
            NodeProto v = TraceToMatMul($"present.{l}.value", $"present.{l}.value");
            NodeProto q = consumers[k.Input[0]].FirstOrDefault(n => WeightOf(n) is not null && n != k && n != v)
                ?? throw new InvalidDataException($"layer {l}: no query projection beside the key projection");
            Put(p + ".self_attn.q_proj.weight", WeightOf(q)!);
            Put(p + ".self_attn.k_proj.weight", WeightOf(k)!);
            Put(p + ".self_attn.v_proj.weight", WeightOf(v)!);
            Put(p + ".input_layernorm.weight", GainOf(k.Input[0], $"layer {l}'s attention"));
            int after = Math.Max(order[q], Math.Max(order[k], order[v]));
            List<NodeProto> next = [.. weighted.Where(n => order[n] > after).Take(4)];
            if (next.Count < 4)
            {
                throw new InvalidDataException($"layer {l}: fewer than four weight MatMuls after the attention projections");
            }

            NodeProto o = next[0];
            NodeProto[] gateUp = [next[1], next[2]];
            NodeProto gate = gateUp.FirstOrDefault(n => consumers.TryGetValue(n.Output[0], out List<NodeProto>? c) && c.Any(x => x.OpType == "Sigmoid"))
                ?? throw new InvalidDataException($"layer {l}: no MLP projection goes through a Sigmoid (SiLU)");
            NodeProto up = gateUp.Single(n => n != gate);
            Put(p + ".self_attn.o_proj.weight", WeightOf(o)!);
            Put(p + ".mlp.gate_proj.weight", WeightOf(gate)!);
            Put(p + ".mlp.up_proj.weight", WeightOf(up)!);
            Put(p + ".mlp.down_proj.weight", WeightOf(next[3])!);
            Put(p + ".post_attention_layernorm.weight", GainOf(gate.Input[0], $"layer {l}'s MLP"));
        }

        NodeProto head = TraceToMatMul("logits", "logits");
        Put("lm_head.weight", WeightOf(head)!);
        Put("model.norm.weight", GainOf(head.Input[0], "lm_head"));
        return result;
    }
}
