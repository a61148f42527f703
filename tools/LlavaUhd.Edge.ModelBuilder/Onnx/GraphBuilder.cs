using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Onnx;

/// <summary>
/// Builds an ONNX graph (opset 17, standard ops only) with OnnxSharp's protobuf types: inputs, outputs, seeded random
/// initializers and nodes with generated names. The layers the generator needs (LayerNorm, RMSNorm, Linear, GELU,
/// attention) are in <see cref="Layers"/>.
/// </summary>
public sealed class GraphBuilder
{
    public const int Opset = 17;

    private readonly Random _random;
    private int _next;

    public GraphBuilder(string name, int seed, Generation.TrainedWeights? weights = null)
    {
        Graph = new GraphProto { Name = name };
        _random = new Random(seed);
        Weights = weights;
    }

    /// <summary>Trained values that replace the seeded random (and constant-filled) parameters of the same name.</summary>
    public Generation.TrainedWeights? Weights { get; }

    public GraphProto Graph { get; }

    /// <summary>Parameters written so far (for progress and size reports).</summary>
    public long ParameterCount { get; private set; }

    public ModelProto Build(string producer = "LlavaUhd.Edge.ModelBuilder")
    {
        var model = new ModelProto { IrVersion = 8, Graph = Graph, ProducerName = producer, ProducerVersion = "1" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    /// <summary>A graph input; each dim is a <c>long</c> (static) or a <c>string</c> (symbolic).</summary>
    public string Input(string name, DataType type, params object[] dims)
    {
        Graph.Input.Add(ValueInfo(name, type, dims));
        return name;
    }

    public void Output(string name, DataType type, params object[] dims) => Graph.Output.Add(ValueInfo(name, type, dims));

    public static ValueInfoProto ValueInfo(string name, DataType type, params object[]? dims)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (dims is not null)
        {
            var shape = new TensorShapeProto();
            foreach (object d in dims)
            {
                shape.Dim.Add(d switch
                {
                    string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                    int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                    long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                    _ => throw new ArgumentException($"dim {d} must be a string or an integer", nameof(dims)),
                });
            }

            tensor.Shape = shape;
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }

    public string Fresh(string hint) => $"{hint}_{_next++}";

    public string Floats(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        Graph.Initializer.Add(FloatTensor(name, data, dims));
        ParameterCount += data.Length;
        return name;
    }

    public static TensorProto FloatTensor(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data)) };
        t.Dims.AddRange(dims);
        return t;
    }

    public string Longs(string name, ReadOnlySpan<long> data, params long[] dims)
    {
        var t = new TensorProto { Name = Fresh(name), DataType = (int)DataType.Int64, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data)) };
        t.Dims.AddRange(dims);
        Graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>A 1-D int64 constant (shapes, axes, slice bounds).</summary>
    public string Vector(params long[] values) => Longs("c", values, values.Length);

    /// <summary>A 0-D int64 constant.</summary>
    public string Scalar(long value) => Longs("s", [value]);

    public string ScalarF(float value) => Floats(Fresh("f"), [value]);

    /// <summary>Uniform random weights with standard deviation <paramref name="std"/>.</summary>
    public string Random(string name, float std, params long[] dims)
    {
        if (Weights is not null && Weights.TryTake(name, dims, out float[] trained))
        {
            return Floats(name, trained, dims);
        }

        long n = 1;
        foreach (long d in dims)
        {
            n *= d;
        }

        float[] data = new float[n];
        float a = std * MathF.Sqrt(3f);
        for (long i = 0; i < n; i++)
        {
            data[i] = ((_random.NextSingle() * 2f) - 1f) * a;
        }

        return Floats(name, data, dims);
    }

    public string Filled(string name, float value, params long[] dims)
    {
        if (Weights is not null && Weights.TryTake(name, dims, out float[] trained))
        {
            return Floats(name, trained, dims);
        }

        long n = 1;
        foreach (long d in dims)
        {
            n *= d;
        }

        float[] data = new float[n];
        Array.Fill(data, value);
        return Floats(name, data, dims);
    }

    /// <summary>Adds a node with one output (named <paramref name="output"/> or generated) and returns the output name.</summary>
    public string Node(string op, string[] inputs, string? output = null, params AttributeProto[] attributes)
    {
        output ??= Fresh(op.ToLowerInvariant());
        var node = new NodeProto { OpType = op, Name = Fresh("n_" + op) };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    public string Node(string op, params string[] inputs) => Node(op, inputs, null);

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    // Shorthands used by the layers.
    public string Add(string a, string b) => Node("Add", a, b);

    public string Mul(string a, string b) => Node("Mul", a, b);

    public string MatMul(string a, string b) => Node("MatMul", a, b);

    public string Reshape(string x, params long[] shape) => Node("Reshape", x, Vector(shape));

    public string Transpose(string x, params long[] perm) => Node("Transpose", [x], null, Ints("perm", perm));

    public string Unsqueeze(string x, params long[] axes) => Node("Unsqueeze", x, Vector(axes));
}
