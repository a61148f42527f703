using System.Runtime.InteropServices;
using Google.Protobuf;
using LlavaUhd.Edge.ModelBuilder.Onnx;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>
/// Static INT8 QDQ quantization of one ONNX graph with standard ops only (QuantizeLinear/DequantizeLinear, opset 17):
/// weights of MatMul (B initializer, axis 1), Conv (axis 0) and Gather tables (axis 0) become symmetric int8, per channel
/// or per tensor; the activation input of each MatMul/Conv gets a Q/DQ pair with a symmetric int8 scale calibrated by
/// running the FP32 graph with those activations exposed as extra outputs. TensorRT builds INT8 engines from such graphs
/// and ONNX Runtime's CPU EP fuses them into integer kernels.
/// </summary>
public static class QdqQuantizer
{
    /// <param name="weightRange">Full or Reduced (resolve Auto with <see cref="Int8WeightRanges.Resolve"/>).</param>
    public static ModelProto Quantize(ModelProto fp32, IReadOnlyList<IReadOnlyDictionary<string, FeedTensor>> calibration, CalibrationMethod method, bool perChannel, WeightRange weightRange = WeightRange.Full)
    {
        int qmax = Int8WeightRanges.MaxQuantized(weightRange);
        GraphProto graph = fp32.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var weightSlots = new List<(NodeProto Node, int Input, int Axis)>();
        var activations = new List<(NodeProto Node, int Input)>();
        foreach (NodeProto node in graph.Node)
        {
            switch (node.OpType)
            {
                case "MatMul" when IsFloatInit(initializers, node.Input[1], rank: 2):
                    weightSlots.Add((node, 1, 1));
                    activations.Add((node, 0));
                    break;
                case "Conv" when IsFloatInit(initializers, node.Input[1], rank: 4):
                    weightSlots.Add((node, 1, 0));
                    activations.Add((node, 0));
                    break;
                case "Gather" when IsFloatInit(initializers, node.Input[0], rank: 2):
                    weightSlots.Add((node, 0, 0));
                    break;
                default:
                    break;
            }
        }

        Dictionary<string, float> thresholds = Calibrate(fp32, activations.Select(a => a.Node.Input[a.Input]).Distinct().ToList(), calibration, method);

        ModelProto q = fp32.Clone();
        GraphProto g = q.Graph;
        var nodes = g.Node.ToList();
        var byName = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var nodeIndex = fp32.Graph.Node.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i);
        var newNodes = new List<NodeProto>();
        var dequantized = new Dictionary<string, string>(StringComparer.Ordinal);
        var uses = g.Node.SelectMany(n => n.Input).GroupBy(i => i, StringComparer.Ordinal).ToDictionary(x => x.Key, x => x.Count(), StringComparer.Ordinal);
        int counter = 0;

        foreach ((NodeProto original, int input, int axis) in weightSlots)
        {
            NodeProto node = nodes[nodeIndex[original]];
            string name = node.Input[input];
            if (node.OpType == "Gather" && uses[name] == 1 && node.Attribute.All(a => a.Name != "axis" || a.I == 0))
            {
                // A table is read a few rows at a time: gather the int8 rows, then dequantize only those (per row:
                // Gather of the row scales, Cast, Mul). Dequantizing the table first made a float copy of all of it
                // (49 280 × 576 × 4 B = 113 MB for SmolVLM) on every call; the values are the same, q × scale.
                TensorProto table = byName[name];
                (TensorProto tq, TensorProto tscale, TensorProto tzp) = QuantizeWeight(table, perChannel ? axis : -1, qmax);
                g.Initializer.Remove(table);
                g.Initializer.Add(tq);
                g.Initializer.Add(tscale);
                string output = node.Output[0];
                string rows = output + "_q";
                node.Input[0] = tq.Name;
                node.Output[0] = rows;
                if (perChannel)
                {
                    string axes = name + "_row_axes";
                    g.Initializer.Add(new TensorProto { Name = axes, DataType = (int)DataType.Int64, Dims = { 1 }, RawData = ByteString.CopyFrom(BitConverter.GetBytes(-1L)) });
                    var gatherScales = new NodeProto { OpType = "Gather", Name = $"{name}_GatherScales" };
                    gatherScales.Input.AddRange([tscale.Name, node.Input[1]]);
                    gatherScales.Output.Add(output + "_row_scales");
                    var unsqueeze = new NodeProto { OpType = "Unsqueeze", Name = $"{name}_UnsqueezeScales" };
                    unsqueeze.Input.AddRange([output + "_row_scales", axes]);
                    unsqueeze.Output.Add(output + "_row_scales_1");
                    var cast = new NodeProto { OpType = "Cast", Name = $"{name}_CastRows" };
                    cast.Input.Add(rows);
                    cast.Output.Add(output + "_rows_float");
                    cast.Attribute.Add(GraphBuilder.Int("to", (long)DataType.Float));
                    var mul = new NodeProto { OpType = "Mul", Name = $"{name}_ScaleRows" };
                    mul.Input.AddRange([output + "_rows_float", output + "_row_scales_1"]);
                    mul.Output.Add(output);
                    newNodes.AddRange([gatherScales, unsqueeze, cast, mul]);
                }
                else
                {
                    g.Initializer.Add(tzp);
                    var dqRows = new NodeProto { OpType = "DequantizeLinear", Name = $"{name}_DequantizeRows" };
                    dqRows.Input.AddRange([rows, tscale.Name, tzp.Name]);
                    dqRows.Output.Add(output);
                    newNodes.Add(dqRows);
                }

                continue;
            }

            if (!dequantized.TryGetValue(name, out string? dq))
            {
                TensorProto w = byName[name];
                (TensorProto wq, TensorProto scale, TensorProto zp) = QuantizeWeight(w, perChannel ? axis : -1, qmax);
                g.Initializer.Remove(w);
                g.Initializer.Add(wq);
                g.Initializer.Add(scale);
                g.Initializer.Add(zp);
                dq = name + "_dq";
                var dqNode = new NodeProto { OpType = "DequantizeLinear", Name = $"{name}_DequantizeLinear" };
                dqNode.Input.AddRange([wq.Name, scale.Name, zp.Name]);
                dqNode.Output.Add(dq);
                if (perChannel)
                {
                    dqNode.Attribute.Add(GraphBuilder.Int("axis", axis));
                }

                newNodes.Add(dqNode);
                dequantized[name] = dq;
            }

            node.Input[input] = dq;
        }

        // A QuantizeLinear/DequantizeLinear pair per consumer: ONNX Runtime fuses Q → DQ → MatMul into an integer kernel
        // (MatMulIntegerToFloat, after converting s8 to u8) only when the pair feeds that one node, so q/k/v (or
        // gate/up) reading the same activation each get their own pair. Shared pairs left 5 of 7 decoder MatMuls per
        // layer dequantizing their weights and running in float on every step.
        foreach ((NodeProto original, int input) in activations)
        {
            NodeProto node = nodes[nodeIndex[original]];
            string name = node.Input[input];
            float threshold = thresholds[name];
            float s = threshold > 0 ? threshold / 127f : 1f;
            string id = $"act{counter++}";
            string scaleName = id + "_scale", zpName = id + "_zero_point";
            g.Initializer.Add(GraphBuilder.FloatTensor(scaleName, [s]));
            g.Initializer.Add(new TensorProto { Name = zpName, DataType = (int)DataType.Int8, RawData = ByteString.CopyFrom(0) });
            var qn = new NodeProto { OpType = "QuantizeLinear", Name = id + "_QuantizeLinear" };
            qn.Input.AddRange([name, scaleName, zpName]);
            qn.Output.Add(id + "_q");
            var dn = new NodeProto { OpType = "DequantizeLinear", Name = id + "_DequantizeLinear" };
            dn.Input.AddRange([id + "_q", scaleName, zpName]);
            dn.Output.Add(id + "_dq");
            newNodes.Add(qn);
            newNodes.Add(dn);
            node.Input[input] = id + "_dq";
        }

        // Keep the node list topologically sorted: weight DQs first, activation Q/DQ right before their first consumer.
        g.Node.Clear();
        var pending = newNodes.ToDictionary(n => n.Output[0], StringComparer.Ordinal);
        void Emit(string output)
        {
            if (pending.Remove(output, out NodeProto? n))
            {
                foreach (string i in n.Input)
                {
                    Emit(i);
                }

                g.Node.Add(n);
            }
        }

        foreach (NodeProto node in nodes)
        {
            foreach (string i in node.Input)
            {
                Emit(i);
            }

            g.Node.Add(node);
        }

        foreach (ValueInfoProto output in g.Output)
        {
            Emit(output.Name);   // a gathered table's dequantized rows may be the graph's output itself (embed_tokens)
        }

        q.ProducerName = "LlavaUhd.Edge.ModelBuilder qdq-int8";
        return q;
    }

    private static bool IsFloatInit(Dictionary<string, TensorProto> inits, string name, int rank) =>
        inits.TryGetValue(name, out TensorProto? t) && t.DataType == (int)DataType.Float && t.Dims.Count == rank;

    private static (TensorProto Q, TensorProto Scale, TensorProto ZeroPoint) QuantizeWeight(TensorProto w, int axis, int qmax)
    {
        float[] data = MemoryMarshal.Cast<byte, float>(w.RawData.Span).ToArray();
        long[] dims = w.Dims.ToArray();
        int channels = axis < 0 ? 1 : (int)dims[axis];
        long inner = 1;
        for (int d = axis + 1; d < dims.Length && axis >= 0; d++)
        {
            inner *= dims[d];
        }

        int ChannelOf(long i) => axis < 0 ? 0 : (int)(i / inner % channels);
        float[] maxAbs = new float[channels];
        for (long i = 0; i < data.Length; i++)
        {
            int c = ChannelOf(i);
            maxAbs[c] = MathF.Max(maxAbs[c], MathF.Abs(data[i]));
        }

        float[] scales = maxAbs.Select(m => m > 0 ? m / qmax : 1f).ToArray();
        sbyte[] q = new sbyte[data.Length];
        for (long i = 0; i < data.Length; i++)
        {
            q[i] = (sbyte)Math.Clamp(MathF.Round(data[i] / scales[ChannelOf(i)]), -qmax, qmax);
        }

        var qt = new TensorProto { Name = w.Name + "_quantized", DataType = (int)DataType.Int8, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(q.AsSpan())) };
        qt.Dims.AddRange(dims);
        TensorProto scale = axis < 0 ? GraphBuilder.FloatTensor(w.Name + "_scale", scales) : GraphBuilder.FloatTensor(w.Name + "_scale", scales, channels);
        var zp = new TensorProto { Name = w.Name + "_zero_point", DataType = (int)DataType.Int8, RawData = ByteString.CopyFrom(new byte[channels]) };
        if (axis >= 0)
        {
            zp.Dims.Add(channels);
        }

        return (qt, scale, zp);
    }

    private static Dictionary<string, float> Calibrate(ModelProto fp32, List<string> tensors, IReadOnlyList<IReadOnlyDictionary<string, FeedTensor>> feeds, CalibrationMethod method)
    {
        ModelProto probe = fp32.Clone();
        var graphInputs = probe.Graph.Input.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var existingOutputs = probe.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (string t in tensors.Where(t => !existingOutputs.Contains(t) && !graphInputs.Contains(t)))
        {
            probe.Graph.Output.Add(GraphBuilder.ValueInfo(t, DataType.Float, null));
        }

        var stats = tensors.ToDictionary(t => t, _ => new ActivationStats(), StringComparer.Ordinal);
        using var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(probe.ToByteArray(), so);
        int passes = method == CalibrationMethod.MinMax ? 1 : 2;
        for (int pass = 0; pass < passes; pass++)
        {
            foreach (IReadOnlyDictionary<string, FeedTensor> feed in feeds)
            {
                RunAndObserve(session, feed, tensors, (name, values) =>
                {
                    if (pass == 0)
                    {
                        stats[name].ObserveMax(values);
                    }
                    else
                    {
                        stats[name].ObserveHistogram(values);
                    }
                });
            }
        }

        return stats.ToDictionary(kv => kv.Key, kv => kv.Value.Threshold(method), StringComparer.Ordinal);
    }

    /// <summary>Runs <paramref name="session"/> on one feed and hands each requested float output to <paramref name="observe"/>.</summary>
    public static void RunAndObserve(InferenceSession session, IReadOnlyDictionary<string, FeedTensor> feed, IReadOnlyList<string> outputs, Action<string, ReadOnlySpan<float>> observe)
    {
        var values = feed.ToDictionary(kv => kv.Key, kv => kv.Value.ToOrtValue(), StringComparer.Ordinal);
        try
        {
            var names = new List<string>();
            foreach (string o in outputs)
            {
                if (feed.TryGetValue(o, out FeedTensor? direct))
                {
                    observe(o, (float[])direct.Data);
                }
                else
                {
                    names.Add(o);
                }
            }

            if (names.Count == 0)
            {
                return;
            }

            using var run = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> results = session.Run(run, values, names);
            for (int i = 0; i < names.Count; i++)
            {
                observe(names[i], results[i].GetTensorDataAsSpan<float>());
            }
        }
        finally
        {
            foreach (OrtValue v in values.Values)
            {
                v.Dispose();
            }
        }
    }
}
