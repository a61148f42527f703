using System.Text.Json;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Providers;
using LlavaUhd.Edge.ModelBuilder.Generation;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// Typed answers through the whole pipeline on the tiny random models (docs/typed-answers.md): whatever the random
/// weights prefer, greedy or sampled, every answer is valid for its type and carries its typed value.
/// </summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class TypedAnswerPipelineTests
{
    private readonly GeneratedPackages _packages;

    public TypedAnswerPipelineTests(GeneratedPackages packages) => _packages = packages;

    private static readonly AnswerType[] s_types =
    [
        AnswerType.YesNo,
        AnswerType.Choice(["empty", "one parcel", "jam"]),
        AnswerType.Number(0, 6, integer: true),
        AnswerType.Number(-2.5, 1000),
        AnswerType.Number(),
        AnswerType.Create("json", schemaJson: """{"properties": {"jam": {"type": "boolean"}, "parcels": {"type": "integer", "minimum": 0, "maximum": 9}, "state": {"enum": ["idle", "running"]}, "label": {"type": "string", "maxLength": 6}}}"""),
    ];

    /// <summary>The preset's pipeline on the CPU and one encoded 320×240 test frame (fast profile).</summary>
    private VlmPipeline OpenOnAFrame(string preset, out VisualTokens image)
    {
        var options = new InferenceOptions { Model = _packages.Get(preset), PixelThreads = 2 };
        options.Providers.Order = [ProviderNames.Cpu];
        VlmPipeline pipeline = VlmPipeline.Open(options);
        try
        {
            image = pipeline.Encode(new EncodeRequest(PipelineTests.Frame(320, 240)) { Profile = CompressionProfile.Fast });
            return pipeline;
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
    }

    [Theory]
    [InlineData(ModelPreset.TinySmolVlm)]
    [InlineData(ModelPreset.TinyMiniCpmV)]
    public void EveryTypedAnswer_IsValidForItsType_GreedyAndSampled(string preset)
    {
        using VlmPipeline pipeline = OpenOnAFrame(preset, out VisualTokens image);
        string[] questions = ["How many parcels are there?", "Is the belt jammed?", "Describe the belt."];
        int answers = 0;
        foreach (AnswerType type in s_types)
        {
            foreach (string question in questions)
            {
                for (int seed = 0; seed < 4; seed++)
                {
                    // seed 0 greedy; the others sample hot, so the random model wanders over the allowed tokens
                    SamplingOptions? sampling = seed == 0 ? null : new SamplingOptions { Temperature = 2f, Seed = (ulong)seed, MaxNewTokens = 4 };
                    VlmAnswer a = pipeline.Answer(image, new GenerationRequest(question) { AnswerType = type, Sampling = sampling });

                    Assert.Equal(StopReason.StopToken, a.StopReason);
                    Assert.True(AnswerGrammar.For(type).Accepts(a.Text), $"{type.Name}: '{a.Text}'");
                    JsonElement value = Assert.NotNull(a.Value);
                    Assert.Equal(type.ToValue(a.Text).GetRawText(), value.GetRawText());
                    Assert.True(
                        type.Kind switch { AnswerKind.YesNo => value.ValueKind is JsonValueKind.True or JsonValueKind.False, AnswerKind.Number => value.ValueKind == JsonValueKind.Number, AnswerKind.Choice => value.ValueKind == JsonValueKind.String, _ => value.ValueKind == JsonValueKind.Object },
                        $"{type.Name}: a {value.ValueKind} value");
                    answers++;
                }
            }
        }

        Assert.Equal(s_types.Length * questions.Length * 4, answers);
    }

    [Fact]
    public void AWarmAnswer_AllocatesNoVocabularySizedBuffer()
    {
        // The sampler's scratch and the banned-token set span the vocabulary (49 280 ids: 197 KB per array, on the
        // large-object heap): made once per model, never per request (docs/performance.md, "Question to answer").
        using VlmPipeline pipeline = OpenOnAFrame(ModelPreset.TinySmolVlm, out VisualTokens image);
        var request = new GenerationRequest("How many parcels are there?") { MaxNewTokens = 4 };
        pipeline.Answer(image, request);
        pipeline.Answer(image, request with { Sampling = new SamplingOptions { Temperature = 0.7f, Seed = 3, MaxNewTokens = 4 } });

        long before = GC.GetAllocatedBytesForCurrentThread();
        pipeline.Answer(image, request);
        pipeline.Answer(image, request with { Sampling = new SamplingOptions { Temperature = 0.7f, Seed = 3, MaxNewTokens = 4 } });
        long perAnswer = (GC.GetAllocatedBytesForCurrentThread() - before) / 2;

        Assert.True(perAnswer < 49_280 * sizeof(float) / 4, $"{perAnswer} bytes allocated per warm answer");
    }

    [Fact]
    public void InvalidSampling_IsRefusedWithItsProblems_AndTheNextAnswerIsUnaffected()
    {
        using VlmPipeline pipeline = OpenOnAFrame(ModelPreset.TinySmolVlm, out VisualTokens image);
        var request = new GenerationRequest("How many parcels are there?") { Sampling = new SamplingOptions { Temperature = 0.7f, Seed = 5, MaxNewTokens = 4 } };
        VlmAnswer before = pipeline.Answer(image, request);

        ArgumentException ex = Assert.Throws<ArgumentException>(() => pipeline.Answer(image, request with { Sampling = new SamplingOptions { Temperature = -1, TopP = 0 } }));
        Assert.Contains("temperature = -1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("top_p", ex.Message, StringComparison.Ordinal);

        Assert.Equal(before.TokenIds, pipeline.Answer(image, request).TokenIds);   // the shared sampler kept nothing of the refused request
    }

    [Fact]
    public void AFreeAnswer_HasNoValue_AndATypedOneIgnoresATooSmallTokenCap()
    {
        using VlmPipeline pipeline = OpenOnAFrame(ModelPreset.TinySmolVlm, out VisualTokens image);
        AnswerType json = s_types[^1];

        VlmAnswer free = pipeline.Answer(image, new GenerationRequest("Describe the belt.") { MaxNewTokens = 3 });
        VlmAnswer typed = pipeline.Answer(image, new GenerationRequest("Describe the belt.") { MaxNewTokens = 3, AnswerType = json });

        Assert.Null(free.Value);
        Assert.Equal(JsonValueKind.Object, typed.Value?.ValueKind);
        Assert.True(typed.Tokens.Generated > 3, $"a JSON answer needs more than 3 tokens; got {typed.Tokens.Generated}");
    }
}
