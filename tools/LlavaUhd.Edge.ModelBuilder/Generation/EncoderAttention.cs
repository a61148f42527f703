using System.Runtime.InteropServices;
using LlavaUhd.Edge.ModelBuilder.Onnx;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// Rewrites a vision encoder's attention blocks onto ONNX Runtime's <c>com.microsoft:MultiHeadAttention</c>
/// (docs/cpu-decoder.md, "The encoder"). On the CPU that op runs fused flash attention — scores, softmax and the
/// weighted sum in tiles that stay in cache, never the [heads, T, T] score tensor — when it has no mask. The
/// SmolVLM encoder masks padded patches with an additive bias, and every view this runtime sends is a whole tile, so
/// the bias is all zeros; each block becomes an <c>If</c>: no patch masked → <c>MultiHeadAttention</c>; otherwise the
/// original operators, unchanged, so a masked view gets exactly what the standard graph computes.
/// <para>
/// The block found (the model builder's ViT block, float or QDQ): q, k, v of [B, T, D] → <c>Reshape</c>
/// [0, 0, heads, D/heads] → <c>Transpose</c> (k to [B, heads, d, T]) → <c>MatMul</c> → <c>Mul</c> by the scale →
/// optional <c>Add</c> of a bias → <c>Softmax</c> → <c>MatMul</c> with v → <c>Transpose</c> → <c>Reshape</c> [0, 0, D].
/// Graphs without that shape (an exporter's) are left as they are and the count says so.
/// </para>
/// </summary>
public static class EncoderAttention
{
    private const string Ms = "com.microsoft";

    /// <returns>The rewritten graph and the number of attention blocks fused.</returns>
    public static (ModelProto Model, int Fused) Fuse(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelProto result = model.Clone();
        GraphProto g = result.Graph;
        var index = new GraphIndex(g);
        var replaced = new Dictionary<NodeProto, NodeProto?>(ReferenceEqualityComparer.Instance); // block's last node → its replacement; other block nodes → null
        var conditions = new Dictionary<string, string>(StringComparer.Ordinal); // bias → "no patch masked"
        var conditionNodes = new Dictionary<string, NodeProto[]>(StringComparer.Ordinal); // that value → the nodes computing it
        int fused = 0;
        foreach (NodeProto softmax in g.Node.Where(n => n.OpType == "Softmax").ToList())
        {
            if (Match(softmax) is not { } block)
            {
                continue;
            }

            var mha = new NodeProto { OpType = "MultiHeadAttention", Domain = Ms, Name = softmax.Name + "_mha" };
            mha.Input.AddRange([block.Q, block.K, block.V]);
            mha.Attribute.Add(new AttributeProto { Name = "num_heads", Type = AttributeProto.Types.AttributeType.Int, I = block.Heads });
            mha.Attribute.Add(new AttributeProto { Name = "scale", Type = AttributeProto.Types.AttributeType.Float, F = block.Scale });
            NodeProto last = block.Nodes[^1];
            string output = last.Output[0];
            NodeProto replacement;
            if (block.Bias is null)
            {
                mha.Output.Add(output);
                replacement = mha;
            }
            else
            {
                if (!conditions.TryGetValue(block.Bias, out string? cond))
                {
                    // the bias is 0 where a patch is real and negative where it is masked: none masked ⇔ min = 0
                    cond = block.Bias + "_none_masked";
                    string min = block.Bias + "_min";
                    string zero = block.Bias + "_zero";
                    g.Initializer.Add(new TensorProto { Name = zero, DataType = (int)DataType.Float, RawData = Google.Protobuf.ByteString.CopyFrom(new byte[4]) });
                    conditionNodes[cond] =
                    [
                        Node("ReduceMin", [block.Bias], min, new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 }),
                        Node("Equal", [min, zero], cond),
                    ];
                    conditions[block.Bias] = cond;
                }

                string thenOut = output + "_flash";
                mha.Output.Add(thenOut);
                var then = new GraphProto { Name = softmax.Name + "_unmasked" };
                then.Node.Add(mha);
                then.Output.Add(FloatOutput(thenOut));
                var otherwise = new GraphProto { Name = softmax.Name + "_masked" };
                otherwise.Node.AddRange(block.Nodes.Select(n => n.Clone()));
                otherwise.Output.Add(FloatOutput(output));
                replacement = new NodeProto { OpType = "If", Name = softmax.Name + "_if" };
                replacement.Input.Add(cond);
                replacement.Output.Add(output);
                replacement.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = then });
                replacement.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = otherwise });
            }

            foreach (NodeProto n in block.Nodes)
            {
                replaced[n] = null;
            }

            replaced[last] = replacement;
            fused++;
        }

        if (fused == 0)
        {
            return (result, 0);
        }

        // Each block's replacement where its last node was; a condition's nodes just before the first If that reads it.
        var nodes = new List<NodeProto>();
        foreach (NodeProto n in g.Node)
        {
            if (!replaced.TryGetValue(n, out NodeProto? r))
            {
                nodes.Add(n);
                continue;
            }

            if (r is { OpType: "If" } && conditionNodes.Remove(r.Input[0], out NodeProto[]? condition))
            {
                nodes.AddRange(condition);
            }

            if (r is not null)
            {
                nodes.Add(r);
            }
        }

        g.Node.Clear();
        g.Node.AddRange(nodes);
        if (!result.OpsetImport.Any(o => o.Domain == Ms))
        {
            result.OpsetImport.Add(new OperatorSetIdProto { Domain = Ms, Version = 1 });
        }

        return (result, fused);

        Block? Match(NodeProto softmax)
        {
            NodeProto? pre = Producer(softmax.Input[0]);
            string? bias = null;
            NodeProto? add = null;
            if (pre is { OpType: "Add" })
            {
                add = pre;
                bias = pre.Input[1];
                pre = Producer(pre.Input[0]);
            }

            if (pre is not { OpType: "Mul" } mul || Scalar(mul.Input[1]) is not float scale
                || Producer(mul.Input[0]) is not { OpType: "MatMul" } scores
                || Producer(scores.Input[0]) is not { OpType: "Transpose" } qT || !Perm(qT, 0, 2, 1, 3)
                || Producer(scores.Input[1]) is not { OpType: "Transpose" } kT || !Perm(kT, 0, 2, 3, 1)
                || Producer(qT.Input[0]) is not { OpType: "Reshape" } qR || Producer(kT.Input[0]) is not { OpType: "Reshape" } kR
                || Only(softmax.Output[0]) is not { OpType: "MatMul" } weighted || weighted.Input[0] != softmax.Output[0]
                || Producer(weighted.Input[1]) is not { OpType: "Transpose" } vT || !Perm(vT, 0, 2, 1, 3)
                || Producer(vT.Input[0]) is not { OpType: "Reshape" } vR
                || Only(weighted.Output[0]) is not { OpType: "Transpose" } oT || !Perm(oT, 0, 2, 1, 3)
                || Only(oT.Output[0]) is not { OpType: "Reshape" } oR
                || Shape(qR.Input[1]) is not [0, 0, long heads, _])
            {
                return null;
            }

            // every intermediate must serve this block alone
            NodeProto[] inner = [qR, qT, kR, kT, scores, mul, .. add is null ? Array.Empty<NodeProto>() : [add], softmax, vR, vT, weighted, oT];
            if (inner.Any(n => n.Output.Any(o => index.Consumers(o) != 1)))
            {
                return null;
            }

            return new Block(qR.Input[0], kR.Input[0], vR.Input[0], bias, heads, scale, [.. inner, oR]);
        }

        NodeProto? Producer(string name) => index.Producer(name);

        NodeProto? Only(string name) => index.Only(name);

        bool Perm(NodeProto transpose, params long[] perm)
        {
            AttributeProto? a = transpose.Attribute.FirstOrDefault(x => x.Name == "perm");
            return a is not null && a.Ints.SequenceEqual(perm);
        }

        float? Scalar(string name) => index.Scalar(name);

        long[]? Shape(string name) =>
            index.Initializers.TryGetValue(name, out TensorProto? t) && t.DataType == (int)DataType.Int64
                ? (t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray() : [.. t.Int64Data])
                : null;

        static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
        {
            var n = new NodeProto { OpType = op, Name = output + "_" + op };
            n.Input.AddRange(inputs);
            n.Output.Add(output);
            n.Attribute.AddRange(attributes);
            return n;
        }

        static ValueInfoProto FloatOutput(string name) => new()
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float } },
        };
    }

    private sealed record Block(string Q, string K, string V, string? Bias, long Heads, float Scale, NodeProto[] Nodes);
}
