using System.Runtime.InteropServices;
using System.Text.Json;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.ModelBuilder.Generation;
using OpenCvSharp;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// The trained demo models, exported through the model builder's graphs, reproduce the training framework: for
/// held-out samples the trainer recorded (tests/TestData/golden/&lt;preset&gt;, made by tools/trainer/export.py), our
/// pipeline's prompt ids are the trainer's, its image features and first-step logits are within cosine 0.9999 (fp32),
/// and its greedy answers are the same.
/// </summary>
public sealed class DemoModelParityTests
{
    private static readonly Dictionary<string, Lazy<string>> s_packages = new(StringComparer.Ordinal)
    {
        [ModelPreset.DemoSmolVlm] = Package(ModelPreset.DemoSmolVlm),
        [ModelPreset.DemoLlavaUhdV1] = Package(ModelPreset.DemoLlavaUhdV1),
        [ModelPreset.DemoLlavaUhdV3] = Package(ModelPreset.DemoLlavaUhdV3),
    };

    private static Lazy<string> Package(string preset) => new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), "llava-edge-tests", preset + "-" + Guid.NewGuid().ToString("N"));
        PackageGenerator.Generate(ModelPreset.Get(preset), dir);
        return dir;
    });

    [Theory]
    [InlineData(ModelPreset.DemoSmolVlm)]
    [InlineData(ModelPreset.DemoLlavaUhdV1)]
    [InlineData(ModelPreset.DemoLlavaUhdV3)]
    public void DemoPackage_ReproducesTheTrainersFeaturesLogitsAndAnswers(string preset)
    {
        string golden = Path.Combine(AppContext.BaseDirectory, "TestData", "golden", preset);
        string[] lines = File.ReadAllLines(Path.Combine(golden, "parity.jsonl")).Where(l => l.Length > 0).ToArray();
        Assert.True(lines.Length >= 3, $"only {lines.Length} parity samples");
        using VlmPipeline pipeline = VlmPipeline.Open(new InferenceOptions { Model = s_packages[preset].Value });
        foreach (string line in lines)
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement g = doc.RootElement;
            string image = g.GetProperty("image").GetString()!;
            Assert.True(CompressionProfiles.TryParse(g.GetProperty("profile").GetString(), out CompressionProfile profile));
            using Mat mat = Cv2.ImRead(Path.Combine(golden, image), ImreadModes.Color);
            var view = new ImageView(Bytes(mat), mat.Width, mat.Height, (int)mat.Step(), PixelFormat.Bgr24);
            VisualTokens tokens = pipeline.Encode(new EncodeRequest(view) { Profile = profile });

            float[] features = ReadFloats(golden, g.GetProperty("image_features_file").GetString()!);
            Assert.Equal(features.Length, tokens.Features.Length);
            double featureCosine = VectorMath.Cosine(features, tokens.Features);
            Assert.True(featureCosine >= 0.9999, $"{image}: image_features cosine {featureCosine:F6}");

            string question = g.GetProperty("question").GetString()!;
            AssembledPrompt prompt = pipeline.BuildPrompt(tokens, question);
            Assert.Equal(g.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()), prompt.Ids);

            float[]? first = null;
            VlmAnswer answer = pipeline.Answer(tokens, new GenerationRequest(question) { Sampling = new SamplingOptions { MaxNewTokens = 8 } }, null, logits => first ??= logits.ToArray());
            float[] logits = ReadFloats(golden, g.GetProperty("logits_file").GetString()!);
            double logitCosine = VectorMath.Cosine(logits, first!);
            Assert.True(logitCosine >= 0.9999, $"{image}: first-step logits cosine {logitCosine:F6}");

            int[] greedy = [.. g.GetProperty("greedy_ids").EnumerateArray().Select(e => e.GetInt32())];
            int stop = Array.IndexOf(greedy, 49279);
            Assert.Equal(stop >= 0 ? greedy[..stop] : greedy, answer.TokenIds);
            Assert.Equal(g.GetProperty("greedy_text").GetString()!.Trim(), answer.Text.Trim());
        }
    }

    private static byte[] Bytes(Mat mat)
    {
        byte[] data = new byte[mat.Step() * mat.Height];
        Marshal.Copy(mat.Data, data, 0, data.Length);
        return data;
    }

    private static float[] ReadFloats(string golden, string file) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(golden, file))).ToArray();
}
