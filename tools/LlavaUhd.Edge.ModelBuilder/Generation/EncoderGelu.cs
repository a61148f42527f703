using LlavaUhd.Edge.ModelBuilder.Onnx;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// Rewrites the GELU of a vision encoder onto ONNX Runtime's fused ops, one pass over [T, mlp] instead of six to ten
/// element-wise operators (docs/cpu-decoder.md, "The encoder"): the exact form <c>x·0.5·(erf(x·(1/√2)) + 1)</c> onto
/// <c>com.microsoft:Gelu</c>, or <c>BiasGelu</c> when x is a linear layer's output plus its bias (ONNX Runtime's own
/// fusion looks for a division by √2 and leaves the model builder's multiplication alone); the tanh approximation
/// <c>x·0.5·(tanh(√(2/π)·(x + 0.044715·x³)) + 1)</c> onto <c>FastGelu</c>, with the bias as its second input.
/// </summary>
public static class EncoderGelu
{
    private const string Ms = "com.microsoft";

    /// <returns>The rewritten graph and the number of GELUs fused.</returns>
    public static (ModelProto Model, int Fused) Fuse(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelProto result = model.Clone();
        GraphProto g = result.Graph;
        var index = new GraphIndex(g);
        NodeProto? Producer(string name) => index.Producer(name);
        NodeProto? Only(string name) => index.Only(name);
        int Consumers(string name) => index.Consumers(name);
        float? Constant(NodeProto binary, out string other) => index.ScalarOperand(binary, out other);
        static string? Other(NodeProto binary, string one) => GraphIndex.Other(binary, one);
        var replaced = new Dictionary<NodeProto, NodeProto?>(ReferenceEqualityComparer.Instance);
        int fused = 0;
        foreach (NodeProto erf in g.Node.Where(n => n.OpType == "Erf").ToList())
        {
            // x·0.5·(erf(x·(1/√2)) + 1)
            if (Producer(erf.Input[0]) is not { OpType: "Mul" } scaled || Constant(scaled, out string x) is not float invSqrt2 || MathF.Abs(invSqrt2 - (1f / MathF.Sqrt(2f))) > 1e-6f
                || Consumers(scaled.Output[0]) != 1
                || Tail(erf, x) is not (NodeProto plusOne, NodeProto half, NodeProto product)
                || Consumers(x) != 2)
            {
                continue;
            }

            Replace(x, [scaled, erf, plusOne, half, product], "Gelu", "BiasGelu");
        }

        foreach (NodeProto tanh in g.Node.Where(n => n.OpType == "Tanh").ToList())
        {
            // x·0.5·(tanh(√(2/π)·(x + 0.044715·x·x·x)) + 1)
            if (Producer(tanh.Input[0]) is not { OpType: "Mul" } inner || Constant(inner, out string sum) is not float c || MathF.Abs(c - MathF.Sqrt(2f / MathF.PI)) > 1e-6f
                || Producer(sum) is not { OpType: "Add" } plus || plus.Input.Count != 2
                || plus.Input.Select(Producer).FirstOrDefault(n => n is { OpType: "Mul" } && Constant(n, out _) is float k && MathF.Abs(k - 0.044715f) < 1e-7f) is not NodeProto cubic
                || Constant(cubic, out string cube) is null
                || Other(plus, cubic.Output[0]) is not string x
                || Producer(cube) is not { OpType: "Mul" } cubeMul || Other(cubeMul, x) is not string squareOut || cubeMul.Input.Count(i => i == x) != 1
                || Producer(squareOut) is not { OpType: "Mul" } square || square.Input.Any(i => i != x)
                || new[] { square.Output[0], cubeMul.Output[0], cubic.Output[0], plus.Output[0], inner.Output[0] }.Any(o => Consumers(o) != 1)
                || Tail(tanh, x) is not (NodeProto plusOne, NodeProto half, NodeProto product)
                || Consumers(x) != 5) // x·x (twice), ·x, x + …, x·0.5
            {
                continue;
            }

            Replace(x, [square, cubeMul, cubic, plus, inner, tanh, plusOne, half, product], "FastGelu", "FastGelu");
        }

        if (fused > 0)
        {
            List<NodeProto> kept = [.. g.Node.Select(n => replaced.TryGetValue(n, out NodeProto? r) ? r : n).OfType<NodeProto>()];
            g.Node.Clear();
            g.Node.AddRange(kept);
            if (!result.OpsetImport.Any(o => o.Domain == Ms))
            {
                result.OpsetImport.Add(new OperatorSetIdProto { Domain = Ms, Version = 1 });
            }
        }

        return (result, fused);

        // erf(…) or tanh(…) → + 1 → · (x · 0.5)
        (NodeProto PlusOne, NodeProto Half, NodeProto Product)? Tail(NodeProto nonlinear, string x)
        {
            if (Only(nonlinear.Output[0]) is not { OpType: "Add" } plusOne || Constant(plusOne, out _) is not 1f
                || Only(plusOne.Output[0]) is not { OpType: "Mul" } product
                || Producer(Other(product, plusOne.Output[0]) ?? string.Empty) is not { OpType: "Mul" } half || Constant(half, out string hx) is not 0.5f || hx != x
                || Consumers(half.Output[0]) != 1)
            {
                return null;
            }

            return (plusOne, half, product);
        }

        // the pattern's nodes out, one op in: with x = y + b (b a [N] initializer) the bias goes in as well
        void Replace(string x, NodeProto[] nodes, string op, string biasOp)
        {
            NodeProto product = nodes[^1];
            NodeProto gelu;
            if (Producer(x) is { OpType: "Add" } biasAdd && biasAdd.Input.FirstOrDefault(i => index.Initializers.TryGetValue(i, out TensorProto? b) && b.Dims.Count == 1 && b.DataType == (int)DataType.Float) is string bias)
            {
                gelu = new NodeProto { OpType = biasOp, Domain = Ms, Name = product.Name + "_" + biasOp };
                gelu.Input.AddRange([biasAdd.Input[0] == bias ? biasAdd.Input[1] : biasAdd.Input[0], bias]);
                nodes = [biasAdd, .. nodes];
            }
            else
            {
                gelu = new NodeProto { OpType = op, Domain = Ms, Name = product.Name + "_" + op };
                gelu.Input.Add(x);
            }

            gelu.Output.Add(product.Output[0]);
            foreach (NodeProto n in nodes)
            {
                replaced[n] = null;
            }

            replaced[product] = gelu;
            fused++;
        }
    }
}
