using LlavaUhd.Edge.ModelBuilder.Onnx;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>The ONNX graphs of a package, built to the family contracts (see models-quantized/README.md).</summary>
public static class ModelGraphs
{
    private const float VisionEps = 1e-6f;
    private const float TextEps = 1e-5f;

    /// <summary>
    /// SmolVLM vision encoder: <c>pixel_values [batch_size, num_images, 3, S, S]</c>, <c>pixel_attention_mask
    /// [batch_size, num_images, S, S]</c> → SigLIP ViT (patches whose pixels are all masked are masked out of attention)
    /// → post-LayerNorm → Idefics3 connector (pixel shuffle ×scale, linear without bias) → <c>image_features [N, T/scale², text_hidden]</c>.
    /// </summary>
    public static ModelProto SmolVlmVisionEncoder(ModelPreset p, int seed, TrainedWeights? weights = null)
    {
        var g = new GraphBuilder("vision_encoder", seed, weights);
        long s = p.ImageSize, d = p.VisionHidden, grid = s / p.PatchSize, tokens = grid * grid;
        g.Input("pixel_values", DataType.Float, "batch_size", "num_images", 3L, s, s);
        g.Input("pixel_attention_mask", DataType.Bool, "batch_size", "num_images", s, s);
        string x = g.PatchEmbed(g.Reshape("pixel_values", -1, 3, s, s), "embeddings.patch_embedding", d, p.PatchSize);
        x = g.Add(x, g.Random("embeddings.position_embedding", 0.02f, tokens, d));

        // Patch mask: a patch is real when any of its pixels is (Idefics3 patch_attention_mask); bias [N, 1, 1, T].
        string mask = g.Reshape(g.Cast("pixel_attention_mask", DataType.Float), -1, 1, s, s);
        string patchMask = g.Node("MaxPool", [mask], null, GraphBuilder.Ints("kernel_shape", p.PatchSize, p.PatchSize), GraphBuilder.Ints("strides", p.PatchSize, p.PatchSize));
        string bias = g.Mul(g.Node("Sub", g.Reshape(patchMask, -1, 1, 1, tokens), g.ScalarF(1f)), g.ScalarF(1e4f));

        for (int l = 0; l < p.VisionLayers; l++)
        {
            x = g.VitBlock(x, $"encoder.layers.{l}", d, p.VisionHeads, p.VisionMlp, VisionEps, bias, p.VisionActivation);
        }

        x = g.LayerNorm(x, "post_layernorm", d, VisionEps);

        // Idefics3Connector.pixel_shuffle then modality_projection.
        long sf = p.ScaleFactor, gs = grid / sf;
        x = g.Reshape(x, 0, grid, gs, d * sf);
        x = g.Transpose(x, 0, 2, 1, 3);
        x = g.Reshape(x, 0, gs, gs, d * sf * sf);
        x = g.Transpose(x, 0, 2, 1, 3);
        x = g.Reshape(x, 0, gs * gs, d * sf * sf);
        string features = g.MatMul(x, g.Random("connector.modality_projection.proj.weight", 1f / MathF.Sqrt(d * sf * sf), d * sf * sf, p.TextHidden));
        g.Node("Identity", [features], "image_features");
        g.Output("image_features", DataType.Float, "num_images", gs * gs, (long)p.TextHidden);
        return g.Build();
    }

    /// <summary>
    /// MiniCPM-V-style vision encoder over one view of any patch-aligned size: <c>pixel_values [batch_size, 3, height, width]</c>
    /// and <c>patch_position_ids [batch_size, num_patches]</c> (bucketed into a grid×grid learned table, as Idefics2/MiniCPM-V
    /// do) → <c>vision_features [batch_size, num_patches, vision_hidden]</c>. With <see cref="ModelPreset.MergeLayer"/> set,
    /// the tokens are merged window by window before that layer (LLaVA-UHD v3's progressive compression) and the
    /// output has ⌈rows/w⌉·⌈cols/w⌉ tokens per view (docs/llava-uhd.md).
    /// </summary>
    public static ModelProto MiniCpmVVisionEncoder(ModelPreset p, int seed, TrainedWeights? weights = null)
    {
        var g = new GraphBuilder("vision_encoder", seed, weights);
        long d = p.VisionHidden, grid = p.ImageSize / p.PatchSize;
        g.Input("pixel_values", DataType.Float, "batch_size", 3L, "height", "width");
        g.Input("patch_position_ids", DataType.Int64, "batch_size", "num_patches");
        string x = g.PatchEmbed("pixel_values", "embeddings.patch_embedding", d, p.PatchSize);
        string table = g.Random("embeddings.position_embedding", 0.02f, grid * grid, d);
        x = g.Add(x, g.Node("Gather", [table, "patch_position_ids"], null, GraphBuilder.Int("axis", 0)));
        for (int l = 0; l < p.VisionLayers; l++)
        {
            if (l == p.MergeLayer && l > 0)
            {
                // Progressive compression (LLaVA-UHD v3 style): the later layers attend over one token per window.
                string size = g.Node("Shape", "pixel_values");
                string Patches(long axis) => g.Node("Div", g.Node("Gather", [size, g.Vector(axis)], null, GraphBuilder.Int("axis", 0)), g.Vector(p.PatchSize));
                x = g.WindowMerge(x, Patches(2), Patches(3), "encoder.merge", d, p.MergeWindow);
            }

            x = g.VitBlock(x, $"encoder.layers.{l}", d, p.VisionHeads, p.VisionMlp, VisionEps, null);
        }

        g.LayerNormInto(x, "post_layernorm", d, VisionEps, "vision_features");
        g.Output("vision_features", DataType.Float, "batch_size", p.MergeLayer > 0 ? "num_tokens" : "num_patches", d);
        return g.Build();
    }

    /// <summary>
    /// Perceiver resampler (MiniCPM-V): learned queries cross-attend to the view's features and come out as
    /// <c>image_features [batch_size, queries, text_hidden]</c>, a fixed number of tokens per view.
    /// </summary>
    public static ModelProto MiniCpmVResampler(ModelPreset p, int seed, TrainedWeights? weights = null)
    {
        var g = new GraphBuilder("resampler", seed, weights);
        long e = p.TextHidden, heads = Math.Max(1, p.TextHidden / 16), hd = e / heads, q = p.Queries;
        g.Input("vision_features", DataType.Float, "batch_size", "num_patches", (long)p.VisionHidden);
        string kv = g.LayerNorm(g.Linear("vision_features", "kv_proj", p.VisionHidden, e, bias: false), "ln_kv", e, 1e-6f);
        string queries = g.LayerNorm(g.Random("query", 0.5f, q, e), "ln_q", e, 1e-6f);
        string qh = g.Transpose(g.Reshape(g.Linear(queries, "attn.q_proj", e, e), 1, q, heads, hd), 0, 2, 1, 3);
        string kh = g.Transpose(g.Reshape(g.Linear(kv, "attn.k_proj", e, e), 0, 0, heads, hd), 0, 2, 3, 1);
        string vh = g.Transpose(g.Reshape(g.Linear(kv, "attn.v_proj", e, e), 0, 0, heads, hd), 0, 2, 1, 3);
        string s = g.Node("Softmax", [g.Mul(g.MatMul(qh, kh), g.ScalarF(1f / MathF.Sqrt(hd)))], null, GraphBuilder.Int("axis", -1));
        string o = g.Reshape(g.Transpose(g.MatMul(s, vh), 0, 2, 1, 3), 0, 0, e);
        o = g.LayerNorm(g.Linear(o, "attn.out_proj", e, e), "ln_post", e, 1e-6f);
        g.Node("Identity", [g.MatMul(o, g.Random("proj", 1f / MathF.Sqrt(e), e, p.TextHidden))], "image_features");
        g.Output("image_features", DataType.Float, "batch_size", q, (long)p.TextHidden);
        return g.Build();
    }

    /// <summary><c>input_ids [batch_size, sequence_length]</c> → Gather → <c>inputs_embeds [batch_size, sequence_length, hidden]</c>.</summary>
    public static ModelProto EmbedTokens(ModelPreset p, int seed, TrainedWeights? weights = null)
    {
        var g = new GraphBuilder("embed_tokens", seed, weights);
        g.Input("input_ids", DataType.Int64, "batch_size", "sequence_length");
        string table = g.Random("embed_tokens.weight", 0.5f, p.VocabSize, p.TextHidden);
        g.Node("Gather", [table, "input_ids"], "inputs_embeds", GraphBuilder.Int("axis", 0));
        g.Output("inputs_embeds", DataType.Float, "batch_size", "sequence_length", (long)p.TextHidden);
        return g.Build();
    }

    /// <summary>
    /// Llama-style merged decoder: RMSNorm, rotary positions from <c>position_ids</c>, grouped-query attention over
    /// <c>past_key_values.{i}.*</c> ++ the new keys (returned as <c>present.{i}.*</c>), causal + padding mask from
    /// <c>attention_mask [batch, past + seq]</c>, SwiGLU MLP, final norm and lm_head → <c>logits</c>.
    /// </summary>
    public static ModelProto Decoder(ModelPreset p, int seed, IProgress<string>? progress = null, TrainedWeights? weights = null)
    {
        var g = new GraphBuilder("decoder_model_merged", seed, weights);
        long h = p.TextHidden, nh = p.TextHeads, kvh = p.KeyValueHeads, hd = p.HeadDim, rep = nh / kvh;
        g.Input("inputs_embeds", DataType.Float, "batch_size", "sequence_length", h);
        g.Input("attention_mask", DataType.Int64, "batch_size", "total_sequence_length");
        g.Input("position_ids", DataType.Int64, "batch_size", "sequence_length");
        for (int l = 0; l < p.TextLayers; l++)
        {
            g.Input($"past_key_values.{l}.key", DataType.Float, "batch_size", kvh, "past_sequence_length", hd);
            g.Input($"past_key_values.{l}.value", DataType.Float, "batch_size", kvh, "past_sequence_length", hd);
        }

        g.Output("logits", DataType.Float, "batch_size", "sequence_length", (long)p.VocabSize);
        for (int l = 0; l < p.TextLayers; l++)
        {
            g.Output($"present.{l}.key", DataType.Float, "batch_size", kvh, "total_sequence_length", hd);
            g.Output($"present.{l}.value", DataType.Float, "batch_size", kvh, "total_sequence_length", hd);
        }

        // Mask bias [B, 1, rep·S, T]: key j is visible to query i (absolute T−S+i) when j ≤ T−S+i and attention_mask[j] = 1.
        string seq = g.Node("Gather", [g.Node("Shape", "inputs_embeds"), g.Scalar(1)], null, GraphBuilder.Int("axis", 0));
        string total = g.Node("Gather", [g.Node("Shape", "attention_mask"), g.Scalar(1)], null, GraphBuilder.Int("axis", 0));
        string keys = g.Node("Range", g.Scalar(0), total, g.Scalar(1));
        string queries = g.Node("Range", g.Node("Sub", total, seq), total, g.Scalar(1));
        string causal = g.Node("LessOrEqual", keys, g.Unsqueeze(queries, 1));
        string padding = g.Unsqueeze(g.Cast("attention_mask", DataType.Bool), 1, 2);
        string visible = g.Node("And", causal, padding);
        string bias = g.Node("Where", visible, g.ScalarF(0f), g.ScalarF(-1e9f));
        if (rep > 1)
        {
            bias = g.Node("Tile", bias, g.Vector(1, 1, rep, 1));
        }

        // Rotary embedding tables [B, 1, S, hd] (rotate_half convention).
        float[] invFreq = new float[hd / 2];
        for (int i = 0; i < invFreq.Length; i++)
        {
            invFreq[i] = 1f / MathF.Pow(p.RopeTheta, 2f * i / hd);
        }

        string freqs = g.Mul(g.Unsqueeze(g.Cast("position_ids", DataType.Float), 2), g.Floats("rope.inv_freq", invFreq, invFreq.Length));
        string angles = g.Node("Concat", [freqs, freqs], null, GraphBuilder.Int("axis", -1));
        string cos = g.Unsqueeze(g.Node("Cos", angles), 1);
        string sin = g.Unsqueeze(g.Node("Sin", angles), 1);
        string half0 = g.Vector(0), halfMid = g.Vector(hd / 2), halfEnd = g.Vector(hd), axis3 = g.Vector(3);
        string Rope(string x)
        {
            string x1 = g.Node("Slice", x, half0, halfMid, axis3);
            string x2 = g.Node("Slice", x, halfMid, halfEnd, axis3);
            string rotated = g.Node("Concat", [g.Node("Neg", x2), x1], null, GraphBuilder.Int("axis", 3));
            return g.Add(g.Mul(x, cos), g.Mul(rotated, sin));
        }

        string x = "inputs_embeds";
        for (int l = 0; l < p.TextLayers; l++)
        {
            progress?.Report($"decoder layer {l + 1}/{p.TextLayers}");
            string n = $"model.layers.{l}";
            string a = g.RmsNorm(x, n + ".input_layernorm", h, TextEps);
            string q = Rope(g.Transpose(g.Reshape(g.Linear(a, n + ".self_attn.q_proj", h, nh * hd, bias: false), 0, 0, nh, hd), 0, 2, 1, 3));
            string k = Rope(g.Transpose(g.Reshape(g.Linear(a, n + ".self_attn.k_proj", h, kvh * hd, bias: false), 0, 0, kvh, hd), 0, 2, 1, 3));
            string v = g.Transpose(g.Reshape(g.Linear(a, n + ".self_attn.v_proj", h, kvh * hd, bias: false), 0, 0, kvh, hd), 0, 2, 1, 3);
            string kAll = g.Node("Concat", [$"past_key_values.{l}.key", k], $"present.{l}.key", GraphBuilder.Int("axis", 2));
            string vAll = g.Node("Concat", [$"past_key_values.{l}.value", v], $"present.{l}.value", GraphBuilder.Int("axis", 2));

            // GQA without repeating K/V: query heads g·rep … g·rep+rep−1 share KV head g → [B, kvh, rep·S, hd].
            string qg = g.Reshape(q, 0, kvh, -1, hd);
            string scores = g.Add(g.Mul(g.MatMul(qg, g.Transpose(kAll, 0, 1, 3, 2)), g.ScalarF(1f / MathF.Sqrt(hd))), bias);
            string probs = g.Node("Softmax", [scores], null, GraphBuilder.Int("axis", -1));
            string o = g.Reshape(g.Transpose(g.Reshape(g.MatMul(probs, vAll), 0, nh, -1, hd), 0, 2, 1, 3), 0, 0, nh * hd);
            x = g.Add(x, g.Linear(o, n + ".self_attn.o_proj", nh * hd, h, bias: false));

            string m = g.RmsNorm(x, n + ".post_attention_layernorm", h, TextEps);
            string gate = g.Silu(g.Linear(m, n + ".mlp.gate_proj", h, p.TextMlp, bias: false));
            string up = g.Linear(m, n + ".mlp.up_proj", h, p.TextMlp, bias: false);
            x = g.Add(x, g.Linear(g.Mul(gate, up), n + ".mlp.down_proj", p.TextMlp, h, bias: false));
        }

        x = g.RmsNorm(x, "model.norm", h, TextEps);
        g.Node("MatMul", [x, g.Random("lm_head.weight", 1f / MathF.Sqrt(h), h, p.VocabSize)], "logits");
        return g.Build();
    }

    private static void LayerNormInto(this GraphBuilder g, string x, string name, long dim, float eps, string output) =>
        g.Node("LayerNormalization", [x, g.Filled(name + ".weight", 1f, dim), g.Filled(name + ".bias", 0f, dim)], output,
            GraphBuilder.Int("axis", -1), GraphBuilder.Float("epsilon", eps));
}
