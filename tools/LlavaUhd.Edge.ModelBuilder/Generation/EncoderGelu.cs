using System.Runtime.InteropServices;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// Rewrites the exact (erf) GELU of a vision encoder, <c>x·0.5·(erf(x·(1/√2)) + 1)</c> as five element-wise operators
/// over [T, mlp], onto ONNX Runtime's <c>com.microsoft:Gelu</c>, or <c>BiasGelu</c> when x is a linear layer's output
/// plus its bias: one pass over the tensor instead of six (docs/cpu-decoder.md, "The encoder"). ONNX Runtime's own
/// fusion looks for a division by √2 and leaves the model builder's multiplication alone.
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
        var producer = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (NodeProto n in g.Node)
        {
            foreach (string o in n.Output)
            {
                producer[o] = n;
            }

            foreach (string i in n.Input)
            {
                if (!consumers.TryGetValue(i, out List<NodeProto>? list))
                {
                    consumers[i] = list = [];
                }

                list.Add(n);
            }
        }

        Dictionary<string, TensorProto> inits = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var replaced = new Dictionary<NodeProto, NodeProto?>(ReferenceEqualityComparer.Instance);
        int fused = 0;
        foreach (NodeProto erf in g.Node.Where(n => n.OpType == "Erf").ToList())
        {
            if (Producer(erf.Input[0]) is not { OpType: "Mul" } scaled || Constant(scaled, out string x) is not float invSqrt2 || MathF.Abs(invSqrt2 - (1f / MathF.Sqrt(2f))) > 1e-6f
                || Only(erf.Output[0]) is not { OpType: "Add" } plusOne || Constant(plusOne, out _) is not 1f
                || Only(plusOne.Output[0]) is not { OpType: "Mul" } product
                || Producer(Other(product, plusOne.Output[0])) is not { OpType: "Mul" } half || Constant(half, out string x2) is not 0.5f || x2 != x
                || Consumers(x) != 2 || Consumers(scaled.Output[0]) != 1 || Consumers(half.Output[0]) != 1)
            {
                continue;
            }

            NodeProto[] nodes = [scaled, erf, plusOne, half, product];
            NodeProto gelu;
            if (Producer(x) is { OpType: "Add" } biasAdd && biasAdd.Input.FirstOrDefault(i => inits.TryGetValue(i, out TensorProto? b) && b.Dims.Count == 1 && b.DataType == (int)DataType.Float) is string bias)
            {
                gelu = new NodeProto { OpType = "BiasGelu", Domain = Ms, Name = erf.Name + "_biasgelu" };
                gelu.Input.AddRange([biasAdd.Input[0] == bias ? biasAdd.Input[1] : biasAdd.Input[0], bias]);
                nodes = [biasAdd, .. nodes];
            }
            else
            {
                gelu = new NodeProto { OpType = "Gelu", Domain = Ms, Name = erf.Name + "_gelu" };
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

        NodeProto? Producer(string name) => producer.TryGetValue(name, out NodeProto? n) ? n : null;

        NodeProto? Only(string name) => consumers.TryGetValue(name, out List<NodeProto>? c) && c.Count == 1 ? c[0] : null;

        int Consumers(string name) => consumers.TryGetValue(name, out List<NodeProto>? c) ? c.Count : 0;

        static string Other(NodeProto binary, string one) => binary.Input[0] == one ? binary.Input[1] : binary.Input[0];

        // a binary node with one scalar float initializer: its value, and the other input in `other`
        float? Constant(NodeProto binary, out string other)
        {
            other = string.Empty;
            for (int i = 0; i < 2 && binary.Input.Count == 2; i++)
            {
                if (inits.TryGetValue(binary.Input[i], out TensorProto? t) && t.DataType == (int)DataType.Float && t.RawData.Length == 4)
                {
                    other = binary.Input[1 - i];
                    return MemoryMarshal.Read<float>(t.RawData.Span);
                }
            }

            return null;
        }
    }
}
