using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Providers;
using LlavaUhd.Edge.ModelBuilder.Generation;
using Xunit.Abstractions;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>The whole pipeline on the generated tiny packages of both families.</summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class PipelineTests
{
    private readonly GeneratedPackages _packages;

    public PipelineTests(GeneratedPackages packages) => _packages = packages;

    internal static ImageView Frame(int width, int height, int seed = 1)
    {
        byte[] data = new byte[width * height * 3];
        var rng = new Random(seed);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = ((y * width) + x) * 3;
                data[i] = (byte)((x * 255 / width) ^ (rng.Next(16)));
                data[i + 1] = (byte)(y * 255 / height);
                data[i + 2] = (byte)(((x / 37) + (y / 23)) % 2 == 0 ? 220 : 30);
            }
        }

        return ImageView.Packed(data, width, height, PixelFormat.Bgr24);
    }

    private VlmPipeline Open(string preset, Action<InferenceOptions>? configure = null)
    {
        var options = new InferenceOptions { Model = _packages.Get(preset), PixelThreads = 2, MaxNewTokens = 12 };
        options.Providers.Order = [ProviderNames.Cpu];
        configure?.Invoke(options);
        return VlmPipeline.Open(options);
    }

    private static SamplingOptions Greedy(int maxNew, params int[] stops) => new() { MaxNewTokens = maxNew, StopTokenIds = [.. stops.DefaultIfEmpty(-1)] };

    [Theory]
    [InlineData(ModelPreset.TinySmolVlm, 1280, 720, 13 * 64)]
    [InlineData(ModelPreset.TinyMiniCpmV, 300, 200, 0)]
    [InlineData(ModelPreset.TinyLlavaUhd, 900, 500, 0)]
    [InlineData(ModelPreset.TinyLlavaUhdV3, 900, 500, 0)]
    public void Ask_AnswersWithCountsTimingsAndProvider(string preset, int w, int h, int expectedVisual)
    {
        using VlmPipeline pipeline = Open(preset);

        VlmAnswer answer = pipeline.Ask(Frame(w, h), "What is on the belt?");

        SlicePlan plan = pipeline.PlanFor(new PixelSize(w, h), CompressionProfile.Detail);
        Assert.Equal(expectedVisual == 0 ? plan.TotalTokens : expectedVisual, answer.Tokens.Visual);
        Assert.Equal(answer.Tokens.Visual, answer.Tokens.VisualKept);
        Assert.True(answer.Tokens.Prompt > answer.Tokens.Visual);
        Assert.InRange(answer.Tokens.Generated, 0, 12);
        Assert.Equal("cpu", answer.Provider);
        Assert.True(answer.Timings.PreprocessMs > 0 && answer.Timings.EncodeMs > 0 && answer.Timings.PrefillMs > 0);
        Assert.True(answer.Timings.TotalMs >= answer.Timings.EncodeMs + answer.Timings.PrefillMs);
        Assert.Contains(answer.StopReason, new[] { StopReason.StopToken, StopReason.MaxTokens });
    }

    [Theory]
    [InlineData(ModelPreset.TinySmolVlm)]
    [InlineData(ModelPreset.TinyMiniCpmV)]
    public void Greedy_IsDeterministic(string preset)
    {
        using VlmPipeline pipeline = Open(preset);
        VisualTokens tokens = pipeline.Encode(new EncodeRequest(Frame(640, 480)));
        var request = new GenerationRequest("Describe it.") { Sampling = Greedy(10) };

        var first = new List<int>();
        var second = new List<int>();
        VlmAnswer a = pipeline.Answer(tokens, request, null, _ => first.Add(1));
        VlmAnswer b = pipeline.Answer(tokens, request);
        VisualTokens again = pipeline.Encode(new EncodeRequest(Frame(640, 480)));

        Assert.Equal(a.Text, b.Text);
        Assert.Equal(10, a.Tokens.Generated);
        Assert.Equal(tokens.Features, again.Features);
    }

    [Theory]
    [InlineData(ModelPreset.TinySmolVlm)]
    [InlineData(ModelPreset.TinyMiniCpmV)]
    [InlineData(ModelPreset.TinyLlavaUhd)]
    [InlineData(ModelPreset.TinyLlavaUhdV3)]
    public void KvCacheDecoding_GivesTheSameLogitsAsRecomputingTheWholeSequence(string preset)
    {
        using VlmPipeline pipeline = Open(preset);
        VisualTokens tokens = pipeline.Encode(new EncodeRequest(Frame(400, 300)) { Profile = CompressionProfile.Fast });
        const string question = "Count the parts.";
        var stepLogits = new List<float[]>();
        var generated = new List<int>();
        var sampling = Greedy(6);

        VlmAnswer answer = pipeline.Answer(tokens, new GenerationRequest(question) { Sampling = sampling }, null, l => stepLogits.Add(l.ToArray()));
        generated.AddRange(answer.TokenIds);

        // Recompute without a cache: embeddings of prompt + generated tokens, one decoder run from an empty past.
        AssembledPrompt prompt = pipeline.BuildPrompt(tokens, question);
        int h = pipeline.Package.Manifest.Dimensions.TextHidden;
        float[] promptEmbeds = pipeline.PromptEmbeddings(prompt, tokens).AsSpan(0, prompt.Length * h).ToArray();
        using ModelSessions sessions = pipeline.Package.OpenSessions(new Sessions.OnnxSessionFactory());
        float[] generatedEmbeds = generated.Count > 1 ? RunTests.Embed(sessions, [.. generated.Take(generated.Count - 1).Select(t => (long)t)]) : [];
        float[] all = [.. promptEmbeds, .. generatedEmbeds];
        int seq = all.Length / h;
        (float[] full, _) = RunTests.Decode(sessions, pipeline.Package.Manifest.Dimensions, all, seq, 0, null);

        int vocab = pipeline.Package.Manifest.Dimensions.VocabSize;
        Assert.Equal(6, stepLogits.Count);
        for (int step = 0; step < stepLogits.Count; step++)
        {
            int position = prompt.Length - 1 + step;
            float[] expected = full.AsSpan(position * vocab, vocab).ToArray();
            float maxDiff = expected.Zip(stepLogits[step], (x, y) => MathF.Abs(x - y)).Max();
            Assert.True(maxDiff < 2e-3f, $"step {step}: max |Δlogit| = {maxDiff}");
        }

        Assert.Equal(answer.Tokens.Generated, generated.Count);
    }

    [Fact]
    public void VisualFeatures_LandExactlyAtThePlaceholderPositions_InSchemaOrder()
    {
        using VlmPipeline pipeline = Open(ModelPreset.TinySmolVlm);
        VisualTokens tokens = pipeline.Encode(new EncodeRequest(Frame(1024, 512)) { Profile = CompressionProfile.Balanced });
        AssembledPrompt prompt = pipeline.BuildPrompt(tokens, "Where is the box?");
        int h = pipeline.Package.Manifest.Dimensions.TextHidden;
        int image = pipeline.Package.Manifest.Tokens.ImageTokenId;

        float[] embeds = pipeline.PromptEmbeddings(prompt, tokens).AsSpan(0, prompt.Length * h).ToArray();
        using ModelSessions sessions = pipeline.Package.OpenSessions(new Sessions.OnnxSessionFactory());
        float[] plain = RunTests.Embed(sessions, [.. prompt.Ids.Select(i => (long)i)]);

        Assert.Equal(tokens.Kept, prompt.Ids.Count(i => i == image));
        int row = 0;
        foreach (VisualSpan span in prompt.Spans)
        {
            Assert.Equal(tokens.KeptPerView[span.View], span.Count);
            for (int k = 0; k < span.Count; k++)
            {
                Assert.Equal(tokens.Features.AsSpan((row + k) * h, h).ToArray(), embeds.AsSpan((span.Start + k) * h, h).ToArray());
            }

            row += span.Count;
        }

        for (int p = 0; p < prompt.Length; p++)
        {
            if (prompt.Ids[p] != image)
            {
                Assert.Equal(plain.AsSpan(p * h, h).ToArray(), embeds.AsSpan(p * h, h).ToArray());
            }
        }
    }

    [Fact]
    public void StopTokens_And_MaxTokens_Hold()
    {
        using VlmPipeline pipeline = Open(ModelPreset.TinySmolVlm);
        VisualTokens tokens = pipeline.Encode(new EncodeRequest(Frame(320, 240)) { Profile = CompressionProfile.Fast });
        VlmAnswer free = pipeline.Answer(tokens, new GenerationRequest("q") { Sampling = Greedy(5) });
        Assert.Equal(5, free.Tokens.Generated);
        Assert.Equal(StopReason.MaxTokens, free.StopReason);

        List<int> ids = [.. free.TokenIds];
        VlmAnswer stopped = pipeline.Answer(tokens, new GenerationRequest("q") { Sampling = Greedy(5, ids[2]) });

        Assert.Equal(StopReason.StopToken, stopped.StopReason);
        Assert.Equal(ids.IndexOf(ids[2]), stopped.Tokens.Generated);
    }

    [Fact]
    public void Cancellation_StopsWithinOneStep()
    {
        using VlmPipeline pipeline = Open(ModelPreset.TinySmolVlm);
        VisualTokens tokens = pipeline.Encode(new EncodeRequest(Frame(320, 240)) { Profile = CompressionProfile.Fast });
        using var cts = new CancellationTokenSource();
        int pieces = 0;

        VlmAnswer answer = pipeline.Answer(tokens, new GenerationRequest("q") { Sampling = Greedy(50) }, _ => { }, l =>
        {
            if (++pieces == 3)
            {
                cts.Cancel();
            }
        }, cts.Token);

        Assert.Equal(StopReason.Cancelled, answer.StopReason);
        Assert.InRange(answer.Tokens.Generated, 2, 3);
    }

    [Fact]
    public void Streaming_PiecesAddUpToTheAnswer()
    {
        using VlmPipeline pipeline = Open(ModelPreset.TinySmolVlm);
        var pieces = new List<string>();

        VlmAnswer answer = pipeline.Ask(Frame(320, 240), "Say something.", CompressionProfile.Fast, pieces.Add);

        Assert.Equal(answer.Text, string.Concat(pieces));
    }

    [Fact]
    public void EntropyPruning_DropsTokens_AndThePromptFollows()
    {
        using VlmPipeline pipeline = Open(ModelPreset.TinySmolVlm);
        ImageView frame = Frame(640, 480);

        VisualTokens pruned = pipeline.Encode(new EncodeRequest(frame) { Pruning = new() { EntropyThreshold = 0.999, MinKeepFraction = 0.25 } });
        AssembledPrompt prompt = pipeline.BuildPrompt(pruned, "q");

        Assert.True(pruned.Kept < pruned.Total, $"kept {pruned.Kept} of {pruned.Total}");
        Assert.True(pruned.Kept >= pruned.Total / 4);
        Assert.Equal(pruned.Kept, prompt.VisualTokenCount);
        Assert.Equal(pruned.Kept * pruned.Width, pruned.Features.Length);
    }

    [Fact]
    public void NativeProfile_SmallRegionCostsOneView()
    {
        using VlmPipeline pipeline = Open(ModelPreset.TinySmolVlm);

        VisualTokens native = pipeline.Encode(new EncodeRequest(Frame(400, 300)) { Profile = CompressionProfile.Native });
        VisualTokens detail = pipeline.Encode(new EncodeRequest(Frame(400, 300)) { Profile = CompressionProfile.Detail });

        Assert.Single(native.Plan.Views);
        Assert.Equal(13, detail.Plan.Views.Length); // 400×300 is stretched to 2048×1536: 12 tiles + the global image
    }

    [Fact]
    public void QuestionWithoutImage_IsAnswered()
    {
        using VlmPipeline pipeline = Open(ModelPreset.TinyMiniCpmV);

        VlmAnswer answer = pipeline.Answer(null, new GenerationRequest("hello") { Sampling = Greedy(4) });

        Assert.Equal(0, answer.Tokens.Visual);
        Assert.Equal(4, answer.Tokens.Generated);
    }

    [Fact]
    public void TokensFromAnotherModel_AreRefused()
    {
        using VlmPipeline smol = Open(ModelPreset.TinySmolVlm);
        using VlmPipeline mini = Open(ModelPreset.TinyMiniCpmV);
        VisualTokens tokens = mini.Encode(new EncodeRequest(Frame(200, 200)));

        var ex = Assert.Throws<TokenPacketException>(() => smol.Answer(tokens, new GenerationRequest("q")));

        Assert.Equal(TokenPacketError.EncoderMismatch, ex.Error);
    }

    [Fact]
    public void CorruptModel_FailsAtOpen_NamingTheFile()
    {
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        File.WriteAllBytes(Path.Combine(dir, "onnx", "decoder_model_merged.onnx"), [1, 2, 3]);

        var ex = Assert.Throws<ModelPackageException>(() => VlmPipeline.Open(new InferenceOptions { Model = dir }));

        Assert.Contains("decoder_model_merged.onnx", ex.Message, StringComparison.Ordinal);
        Assert.Contains("sha256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProviderChain_FallsBackToCpu_AndSaysWhy()
    {
        using VlmPipeline pipeline = Open(ModelPreset.TinySmolVlm, o => o.Providers.Order = [ProviderNames.TensorRt, ProviderNames.Cuda, ProviderNames.Cpu]);

        Assert.Equal("cpu", pipeline.Provider);
        Sessions.SessionStatus status = pipeline.SessionFactory.Status.First();
        Assert.Equal(2, status.Fallbacks.Count);
        Assert.StartsWith("tensorrt:", status.Fallbacks[0], StringComparison.Ordinal);
        Assert.StartsWith("cuda:", status.Fallbacks[1], StringComparison.Ordinal);
    }

    [Fact]
    public void RequiredProviderMissing_RefusesToStart()
    {
        var ex = Assert.Throws<ProviderUnavailableException>(() => Open(ModelPreset.TinySmolVlm, o =>
        {
            o.Providers.Order = [ProviderNames.TensorRt, ProviderNames.Cpu];
            o.Providers.Require = ProviderNames.TensorRt;
        }));

        Assert.Contains("requires the tensorrt execution provider", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidOptions_ListEveryProblem()
    {
        var options = new InferenceOptions { Model = "", Profile = "sharp", Temperature = -1 };
        options.Providers.Order = ["tpu"];

        var ex = Assert.Throws<ArgumentException>(() => VlmPipeline.Open(options));

        Assert.Contains("Inference:Model is empty", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Inference:Profile 'sharp'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("temperature = -1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("unknown provider 'tpu'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FloatPacket_RoundTrip_GivesTheSameAnswer()
    {
        using VlmPipeline pipeline = Open(ModelPreset.TinySmolVlm);
        VisualTokens tokens = pipeline.Encode(new EncodeRequest(Frame(640, 360)) { Camera = "dock" });
        var request = new GenerationRequest("What do you see?") { Sampling = Greedy(8) };

        byte[] wire = TokenPacketCodec.Encode(tokens.ToPacket(), TokenDType.Float32, brotli: true);
        VisualTokens received = VisualTokens.FromPacket(TokenPacketCodec.Decode(wire), pipeline.Encoder);

        Assert.Equal(pipeline.Answer(tokens, request).Text, pipeline.Answer(received, request).Text);
    }
}

/// <summary>Regions that arrive together are encoded in one batch and give the same tokens as one by one.</summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class BatchingTests
{
    private readonly GeneratedPackages _packages;

    public BatchingTests(GeneratedPackages packages) => _packages = packages;

    [Theory]
    [InlineData(ModelPreset.TinySmolVlm)]
    [InlineData(ModelPreset.TinyMiniCpmV)]
    public void EncodeBatch_EqualsEncodingOneByOne(string preset)
    {
        var options = new InferenceOptions { Model = _packages.Get(preset), PixelThreads = 2 };
        options.Providers.Order = [ProviderNames.Cpu];
        using VlmPipeline pipeline = VlmPipeline.Open(options);
        EncodeRequest[] requests =
        [
            new(PipelineTests.Frame(640, 480, seed: 1)) { Camera = "a" },
            new(PipelineTests.Frame(300, 500, seed: 2)) { Camera = "b", Profile = CompressionProfile.Balanced },
            new(PipelineTests.Frame(640, 480, seed: 3)) { Camera = "c" },
        ];

        IReadOnlyList<VisualTokens> batched = pipeline.EncodeBatch(requests);
        VisualTokens[] single = [.. requests.Select(r => pipeline.Encode(r))];

        Assert.Equal(3, batched.Count);
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(requests[i].Camera, batched[i].Source.Camera);
            Assert.Equal(single[i].Plan.Views.Length, batched[i].Plan.Views.Length);
            Assert.Equal(single[i].Features.Length, batched[i].Features.Length);
            float maxDiff = single[i].Features.Zip(batched[i].Features, (x, y) => MathF.Abs(x - y)).Max();
            Assert.True(maxDiff < 1e-4f, $"request {i}: max |Δ| = {maxDiff}");
        }
    }
}

/// <summary>Split inference: quantised packets keep the features, and their answers are reported side by side.</summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class PacketFidelityTests
{
    private readonly GeneratedPackages _packages;
    private readonly ITestOutputHelper _output;

    public PacketFidelityTests(GeneratedPackages packages, ITestOutputHelper output)
    {
        _packages = packages;
        _output = output;
    }

    [Theory]
    [InlineData(ModelPreset.TinySmolVlm)]
    [InlineData(ModelPreset.TinyMiniCpmV)]
    public void Fp16AndInt8Packets_KeepCosineAbove099(string preset)
    {
        var options = new InferenceOptions { Model = _packages.Get(preset), PixelThreads = 2 };
        options.Providers.Order = [ProviderNames.Cpu];
        using VlmPipeline pipeline = VlmPipeline.Open(options);
        VisualTokens tokens = pipeline.Encode(new EncodeRequest(PipelineTests.Frame(800, 600)));
        var request = new GenerationRequest("What is on the belt?") { Sampling = new SamplingOptions { MaxNewTokens = 8, StopTokenIds = [-1] } };
        string reference = pipeline.Answer(tokens, request).Text;

        foreach (TokenDType dtype in new[] { TokenDType.Float32, TokenDType.Float16, TokenDType.Int8 })
        {
            byte[] wire = TokenPacketCodec.Encode(tokens.ToPacket(), dtype, brotli: dtype == TokenDType.Int8);
            VisualTokens received = VisualTokens.FromPacket(TokenPacketCodec.Decode(wire), pipeline.Encoder);
            double cosine = VectorMath.Cosine(tokens.Features, received.Features);
            VlmAnswer answer = pipeline.Answer(received, request);
            _output.WriteLine($"{preset} {dtype.Name()}: {wire.Length} bytes, cosine {cosine:F6}, answer {(answer.Text == reference ? "identical" : "differs")}: '{answer.Text}'");
            Assert.True(cosine >= 0.99, $"{dtype}: cosine {cosine}");
            if (dtype == TokenDType.Float32)
            {
                Assert.Equal(reference, answer.Text);
            }
        }
    }
}

[Collection(GeneratedPackagesCollection.Name)]
public sealed class EncoderChunkingTests
{
    private readonly GeneratedPackages _packages;

    public EncoderChunkingTests(GeneratedPackages packages) => _packages = packages;

    [Fact]
    public void CappedViewsPerCall_GiveTheSameFeatures()
    {
        float[] Encode(int cap)
        {
            var options = new InferenceOptions { Model = _packages.SmolVlm, PixelThreads = 2, MaxViewsPerEncoderCall = cap };
            options.Providers.Order = [ProviderNames.Cpu];
            using VlmPipeline pipeline = VlmPipeline.Open(options);
            return pipeline.Encode(new EncodeRequest(PipelineTests.Frame(1280, 720))).Features;
        }

        float[] all = Encode(64);
        float[] capped = Encode(4);

        Assert.Equal(13 * 64 * 16, all.Length);
        Assert.True(all.Zip(capped, (a, b) => MathF.Abs(a - b)).Max() < 1e-4f);
        float[] automatic = Encode(0);
        Assert.True(all.Zip(automatic, (a, b) => MathF.Abs(a - b)).Max() < 1e-4f);
    }

    [Theory]
    [InlineData(0, ProviderNames.Cpu, InferenceOptions.CpuViewsPerCall)]
    [InlineData(0, ProviderNames.Cuda, 0)]
    [InlineData(0, ProviderNames.TensorRt, 0)]
    [InlineData(4, ProviderNames.Cpu, 4)]
    [InlineData(4, ProviderNames.TensorRt, 4)]
    public void ViewsPerCall_Automatic_IsOneOnTheCpuAndAllOnAGpu(int configured, string provider, int expected)
    {
        Assert.Equal(expected, InferenceOptions.ViewsPerCall(configured, provider));
    }
}
