using System.Runtime.InteropServices;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Onnx;

/// <summary>
/// Who produces and who reads each value of a graph, and its initializers by name: what a pattern rewrite (the CPU
/// variant's encoder fusions) walks. A node that reads a value twice is listed twice among its consumers.
/// </summary>
public sealed class GraphIndex
{
    private readonly Dictionary<string, NodeProto> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);

    public GraphIndex(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        foreach (NodeProto n in graph.Node)
        {
            foreach (string o in n.Output)
            {
                _producer[o] = n;
            }

            foreach (string i in n.Input)
            {
                if (!_consumers.TryGetValue(i, out List<NodeProto>? list))
                {
                    _consumers[i] = list = [];
                }

                list.Add(n);
            }
        }

        Initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public IReadOnlyDictionary<string, TensorProto> Initializers { get; }

    public NodeProto? Producer(string value) => _producer.TryGetValue(value, out NodeProto? n) ? n : null;

    /// <summary>The one node that reads <paramref name="value"/>, or null when none or several do.</summary>
    public NodeProto? Only(string value) => _consumers.TryGetValue(value, out List<NodeProto>? c) && c.Count == 1 ? c[0] : null;

    /// <summary>How many inputs read <paramref name="value"/>.</summary>
    public int Consumers(string value) => _consumers.TryGetValue(value, out List<NodeProto>? c) ? c.Count : 0;

    /// <summary>The value of a scalar float initializer, or null.</summary>
    public float? Scalar(string name) =>
        Initializers.TryGetValue(name, out TensorProto? t) && t.DataType == (int)DataType.Float && t.RawData.Length == 4
            ? MemoryMarshal.Read<float>(t.RawData.Span)
            : null;

    /// <summary>A two-input node with one scalar float initializer: its value, and the other input in <paramref name="other"/>.</summary>
    public float? ScalarOperand(NodeProto binary, out string other)
    {
        ArgumentNullException.ThrowIfNull(binary);
        other = string.Empty;
        for (int i = 0; i < 2 && binary.Input.Count == 2; i++)
        {
            if (Scalar(binary.Input[i]) is float value)
            {
                other = binary.Input[1 - i];
                return value;
            }
        }

        return null;
    }

    /// <summary>The other input of a two-input node that reads <paramref name="one"/>; null otherwise.</summary>
    public static string? Other(NodeProto binary, string one)
    {
        ArgumentNullException.ThrowIfNull(binary);
        return binary.Input.Count != 2 ? null : binary.Input[0] == one ? binary.Input[1] : binary.Input[1] == one ? binary.Input[0] : null;
    }
}
