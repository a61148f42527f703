using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Sessions;
using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>
/// How far a variant strays from the package's fp32 graphs (docs/cpu-decoder.md, "Proof"): both decoders run the same
/// prompt (the embeddings of seeded random ids) through the runtime's own generator, greedily, and every step's logits
/// are compared until the chosen tokens part; both vision encoders (SmolVLM contract) run the same seeded pixels.
/// </summary>
public static class VariantDrift
{
    /// <param name="MinLogitsCosine">The lowest cosine between the two decoders' logits over the compared steps.</param>
    /// <param name="Steps">Steps compared (the prefill's last position, then one per generated token).</param>
    /// <param name="SameGreedy">How many of the greedy tokens are the same, from the first.</param>
    /// <param name="Generated">Tokens each decoder generated.</param>
    /// <param name="ImageFeaturesCosine">The encoders' output cosine; NaN where the family's encoder takes other inputs.</param>
    public sealed record Result(double MinLogitsCosine, int Steps, int SameGreedy, int Generated, double ImageFeaturesCosine);

    public static Result Measure(string directory, string variant, int promptTokens = 64, int newTokens = 8, int seed = 11)
    {
        var factory = new OnnxSessionFactory();
        using ModelSessions reference = ModelPackage.Load(directory, ModelVariants.Fp32).OpenSessions(factory);
        using ModelSessions candidate = ModelPackage.Load(directory, variant).OpenSessions(factory);
        using var a = new TextGenerator(reference);
        using var b = new TextGenerator(candidate);

        var random = new Random(seed);
        long[] ids = new long[promptTokens];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = random.Next(a.VocabularySize);
        }

        var options = new SamplingOptions { MaxNewTokens = newTokens, StopTokenIds = [-1] };
        (List<float[]> Logits, IReadOnlyList<int> Tokens) Run(TextGenerator g)
        {
            float[] embeds = new float[promptTokens * g.Hidden];
            g.Embed(ids, embeds);
            var logits = new List<float[]>();
            GenerationResult r = g.Generate(embeds, promptTokens, new TokenSampler(g.VocabularySize, options), options, onLogits: l => logits.Add(l.ToArray()));
            return (logits, r.Tokens);
        }

        (List<float[]> la, IReadOnlyList<int> ta) = Run(a);
        (List<float[]> lb, IReadOnlyList<int> tb) = Run(b);
        int same = 0;
        while (same < Math.Min(ta.Count, tb.Count) && ta[same] == tb[same])
        {
            same++;
        }

        // step i's logits follow the same context in both while the tokens before it agree
        int steps = Math.Min(Math.Min(la.Count, lb.Count), same + 1);
        double min = 1;
        for (int i = 0; i < steps; i++)
        {
            min = Math.Min(min, VectorMath.Cosine(la[i], lb[i]));
        }

        return new Result(min, steps, same, newTokens, EncoderCosine(reference, candidate, reference.Package.Manifest.Dimensions.ImageSize, seed));
    }

    private static double EncoderCosine(ModelSessions a, ModelSessions b, int size, int seed)
    {
        if (!a.HasInput(SessionNames.VisionEncoder, "pixel_attention_mask") || size <= 0)
        {
            return double.NaN;
        }

        var random = new Random(seed);
        float[] pixels = new float[3 * size * size];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (float)((random.NextDouble() * 2) - 1);
        }

        bool[] mask = new bool[size * size];
        Array.Fill(mask, true);
        float[] Features(ModelSessions s)
        {
            using var pv = OrtValue.CreateTensorValueFromMemory(pixels, [1, 1, 3, size, size]);
            using var pm = OrtValue.CreateTensorValueFromMemory(mask, [1, 1, size, size]);
            using var run = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = s[SessionNames.VisionEncoder].Run(run, ["pixel_values", "pixel_attention_mask"], [pv, pm], ["image_features"]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        return VectorMath.Cosine(Features(a), Features(b));
    }
}
