using LlavaUhd.Edge.ModelBuilder.Generation;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Onnx;

/// <summary>Transformer building blocks as plain ONNX ops (opset 17).</summary>
public static class Layers
{
    /// <summary>LayerNormalization over the last axis with a learned scale (1) and bias (0).</summary>
    public static string LayerNorm(this GraphBuilder g, string x, string name, long dim, float eps) =>
        g.Node("LayerNormalization", [x, g.Filled(name + ".weight", 1f, dim), g.Filled(name + ".bias", 0f, dim)], null,
            GraphBuilder.Int("axis", -1), GraphBuilder.Float("epsilon", eps));

    /// <summary>RMSNorm: x / sqrt(mean(x²) + eps) · w (Llama).</summary>
    public static string RmsNorm(this GraphBuilder g, string x, string name, long dim, float eps)
    {
        string ms = g.Node("ReduceMean", [g.Mul(x, x)], null, GraphBuilder.Ints("axes", -1), GraphBuilder.Int("keepdims", 1));
        string rms = g.Node("Sqrt", g.Add(ms, g.ScalarF(eps)));
        return g.Mul(g.Node("Div", x, rms), g.Filled(name + ".weight", 1f, dim));
    }

    /// <summary>x·W (+ b), W stored [in, out] as MatMul's B (the quantizer's per-channel axis is 1).</summary>
    public static string Linear(this GraphBuilder g, string x, string name, long inDim, long outDim, bool bias = true)
    {
        string y = g.MatMul(x, g.Random(name + ".weight", 1f / MathF.Sqrt(inDim), inDim, outDim));
        return bias ? g.Add(y, g.Random(name + ".bias", 0.02f, outDim)) : y;
    }

    /// <summary>GELU, erf form: 0.5·x·(1 + erf(x/√2)). ONNX Runtime fuses the pattern.</summary>
    public static string Gelu(this GraphBuilder g, string x)
    {
        string erf = g.Node("Erf", g.Mul(x, g.ScalarF(1f / MathF.Sqrt(2f))));
        return g.Mul(g.Mul(x, g.ScalarF(0.5f)), g.Add(erf, g.ScalarF(1f)));
    }

    /// <summary>
    /// GELU, tanh approximation (PyTorch's <c>gelu(approximate="tanh")</c>, Hugging Face's <c>gelu_pytorch_tanh</c>, what
    /// SigLIP and SmolVLM's vision tower use): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    /// </summary>
    public static string GeluTanh(this GraphBuilder g, string x)
    {
        string cube = g.Mul(g.Mul(x, x), x);
        string inner = g.Mul(g.Add(x, g.Mul(cube, g.ScalarF(0.044715f))), g.ScalarF(MathF.Sqrt(2f / MathF.PI)));
        return g.Mul(g.Mul(x, g.ScalarF(0.5f)), g.Add(g.Node("Tanh", inner), g.ScalarF(1f)));
    }

    /// <summary>The vision MLP's activation by its Hugging Face name: <c>gelu</c> (erf) or <c>gelu_pytorch_tanh</c>.</summary>
    public static string Activation(this GraphBuilder g, string x, string name) => name switch
    {
        VisionActivations.Gelu => g.Gelu(x),
        VisionActivations.GeluTanh => g.GeluTanh(x),
        _ => throw new ArgumentException($"unknown vision activation '{name}' (known: {VisionActivations.Gelu}, {VisionActivations.GeluTanh})", nameof(name)),
    };

    /// <summary>SiLU: x·sigmoid(x).</summary>
    public static string Silu(this GraphBuilder g, string x) => g.Mul(x, g.Node("Sigmoid", x));

    /// <summary>
    /// Pre-norm ViT block (SigLIP): x + out(attn(LN(x))), then x + fc2(gelu(fc1(LN(x)))).
    /// <paramref name="bias"/> is an additive attention bias broadcastable to [N, heads, T, T] or null.
    /// </summary>
    public static string VitBlock(this GraphBuilder g, string x, string name, long dim, long heads, long mlp, float eps, string? bias, string activation = VisionActivations.Gelu)
    {
        long hd = dim / heads;
        string h = g.LayerNorm(x, name + ".layer_norm1", dim, eps);
        string q = g.Transpose(g.Reshape(g.Linear(h, name + ".self_attn.q_proj", dim, dim), 0, 0, heads, hd), 0, 2, 1, 3);
        string k = g.Transpose(g.Reshape(g.Linear(h, name + ".self_attn.k_proj", dim, dim), 0, 0, heads, hd), 0, 2, 3, 1);
        string v = g.Transpose(g.Reshape(g.Linear(h, name + ".self_attn.v_proj", dim, dim), 0, 0, heads, hd), 0, 2, 1, 3);
        string s = g.Mul(g.MatMul(q, k), g.ScalarF(1f / MathF.Sqrt(hd)));
        if (bias is not null)
        {
            s = g.Add(s, bias);
        }

        string p = g.Node("Softmax", [s], null, GraphBuilder.Int("axis", -1));
        string o = g.Reshape(g.Transpose(g.MatMul(p, v), 0, 2, 1, 3), 0, 0, dim);
        x = g.Add(x, g.Linear(o, name + ".self_attn.out_proj", dim, dim));
        h = g.LayerNorm(x, name + ".layer_norm2", dim, eps);
        string m = g.Linear(g.Activation(g.Linear(h, name + ".mlp.fc1", dim, mlp), activation), name + ".mlp.fc2", mlp, dim);
        return g.Add(x, m);
    }

    /// <summary>Patch embedding: Conv(kernel = stride = patch) then [N, D, gh, gw] → [N, gh·gw, D].</summary>
    public static string PatchEmbed(this GraphBuilder g, string pixels, string name, long dim, long patch)
    {
        string w = g.Random(name + ".weight", 1f / MathF.Sqrt(3 * patch * patch), dim, 3, patch, patch);
        string b = g.Random(name + ".bias", 0.02f, dim);
        string conv = g.Node("Conv", [pixels, w, b], null, GraphBuilder.Ints("kernel_shape", patch, patch), GraphBuilder.Ints("strides", patch, patch));
        return g.Transpose(g.Reshape(conv, 0, dim, -1), 0, 2, 1);
    }

    /// <summary>
    /// Windowed token merging between encoder layers (docs/llava-uhd.md, "Progressive compression"): the
    /// <c>[N, rows·cols, D]</c> tokens of a view of <paramref name="rows"/> × <paramref name="cols"/> patches (int64
    /// tensors of shape [1]) are zero-padded on the bottom and right to multiples of <paramref name="window"/>; the
    /// window × window tokens of each window are concatenated (row-major inside the window, windows row-major), then
    /// LayerNorm and a linear map without bias take 4·D (for 2 × 2) back to D, as Swin's patch merging does →
    /// <c>[N, ⌈rows/w⌉·⌈cols/w⌉, D]</c>. Standard ONNX ops only (Shape arithmetic, Pad, Reshape, Transpose).
    /// </summary>
    public static string WindowMerge(this GraphBuilder g, string x, string rows, string cols, string name, long dim, long window)
    {
        string w = g.Vector(window);
        string Up(string n) => g.Node("Div", g.Add(n, g.Vector(window - 1)), w); // ⌈n / w⌉
        string Joined(params string[] parts) => g.Node("Concat", parts, null, GraphBuilder.Int("axis", 0));
        string outRows = Up(rows), outCols = Up(cols);
        string grid = g.Node("Reshape", x, Joined(g.Vector(0), rows, cols, g.Vector(dim)));
        string pads = Joined(g.Vector(0, 0, 0, 0, 0), g.Node("Sub", g.Mul(outRows, w), rows), g.Node("Sub", g.Mul(outCols, w), cols), g.Vector(0));
        string windows = g.Node("Reshape", g.Node("Pad", grid, pads), Joined(g.Vector(0), outRows, w, outCols, w, g.Vector(dim)));
        string merged = g.Reshape(g.Transpose(windows, 0, 1, 3, 2, 4, 5), 0, -1, window * window * dim);
        merged = g.LayerNorm(merged, name + ".norm", window * window * dim, 1e-6f);
        return g.MatMul(merged, g.Random(name + ".reduction.weight", 1f / MathF.Sqrt(window * window * dim), window * window * dim, dim));
    }

    public static string Cast(this GraphBuilder g, string x, DataType to) => g.Node("Cast", [x], null, GraphBuilder.Int("to", (long)to));
}
