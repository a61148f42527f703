using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Providers;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// The memory defaults of docs/memory.md, asserted on what the sessions are given (CPU-independent), and chunked
/// prefill against one prefill call on a generated package.
/// </summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class MemorySettingsTests
{
    private readonly GeneratedPackages _packages;

    public MemorySettingsTests(GeneratedPackages packages) => _packages = packages;

    [Fact]
    public void Defaults_ShareOneCpuArena_WithoutMemoryPattern_AndKeepPrepacking()
    {
        var factory = new OnnxSessionFactory(new OnnxSessionOptions { Providers = new ExecutionProviderOptions() });

        (bool arena, bool pattern, IReadOnlyDictionary<string, string> entries) = factory.MemorySettings();

        Assert.True(arena);
        Assert.False(pattern);
        Assert.Equal("1", entries["session.use_env_allocators"]);
        Assert.False(entries.ContainsKey("session.disable_prepacking"));
        Assert.Equal(CpuArenas.Shared, new OnnxSessionOptions().MemoryArena);
    }

    [Theory]
    [InlineData(CpuArenas.Shared, true, true)]
    [InlineData(CpuArenas.Session, true, false)]
    [InlineData(CpuArenas.Off, false, false)]
    public void ArenaSetting_SelectsTheAllocator(string setting, bool arena, bool envAllocators)
    {
        var providers = new ExecutionProviderOptions();
        providers.Cpu.MemoryArena = setting;
        providers.Cpu.Prepacking = false;
        providers.Cpu.MemoryPattern = true;

        (bool cpuArena, bool pattern, IReadOnlyDictionary<string, string> entries) = new OnnxSessionFactory(new OnnxSessionOptions { Providers = providers }).MemorySettings();

        Assert.Equal(arena, cpuArena);
        Assert.True(pattern);
        Assert.Equal(envAllocators, entries.ContainsKey("session.use_env_allocators"));
        Assert.Equal("1", entries["session.disable_prepacking"]);
    }

    [Fact]
    public void UnknownArena_IsAConfigurationProblem()
    {
        var providers = new ExecutionProviderOptions();
        providers.Cpu.MemoryArena = "huge";

        Assert.Contains(providers.Problems(), p => p.Contains("Inference:Providers:Cpu:MemoryArena", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new OnnxSessionFactory(new OnnxSessionOptions { Providers = providers }));
    }

    [Fact]
    public void UnknownSpinning_IsAConfigurationProblem()
    {
        var providers = new ExecutionProviderOptions();
        Assert.Equal(CpuSpinning.Off, providers.Cpu.Spinning);   // the service shares its cores: no spinning unless told
        providers.Cpu.Spinning = "always";

        Assert.Contains(providers.Problems(), p => p.Contains("Inference:Providers:Cpu:Spinning 'always' is not one of decoder, all, off", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new OnnxSessionFactory(new OnnxSessionOptions { Providers = providers }));
    }

    [Fact]
    public void Spinning_ChangesNoAnswer()
    {
        // Spinning is how waiting threads wait, not what they compute: every setting gives the same tokens and logits.
        (VlmAnswer Answer, List<float[]> Logits) Run(string spinning)
        {
            var logits = new List<float[]>();
            var options = new InferenceOptions { Model = _packages.SmolVlm, PixelThreads = 2 };
            options.Providers.Order = [ProviderNames.Cpu];
            options.Providers.Cpu.Spinning = spinning;
            using VlmPipeline pipeline = VlmPipeline.Open(options);
            VisualTokens tokens = pipeline.Encode(new EncodeRequest(PipelineTests.Frame(640, 480)));
            var request = new GenerationRequest("Describe it.") { Sampling = new SamplingOptions { MaxNewTokens = 6, StopTokenIds = [-1] } };
            return (pipeline.Answer(tokens, request, null, l => logits.Add(l.ToArray())), logits);
        }

        (VlmAnswer off, List<float[]> offLogits) = Run(CpuSpinning.Off);
        foreach (string spinning in new[] { CpuSpinning.Decoder, CpuSpinning.All })
        {
            (VlmAnswer a, List<float[]> logits) = Run(spinning);
            Assert.Equal(off.TokenIds, a.TokenIds);
            Assert.Equal(offLogits.Count, logits.Count);
            for (int step = 0; step < logits.Count; step++)
            {
                Assert.Equal(offLogits[step], logits[step]);
            }
        }
    }

    [Fact]
    public void PrefillChunk_IsBoundedOnTheCpu_AndWholeOnAGpu()
    {
        Assert.Equal(InferenceOptions.CpuPrefillTokensPerCall, InferenceOptions.PrefillTokensPerCall(0, ProviderNames.Cpu));
        Assert.Equal(0, InferenceOptions.PrefillTokensPerCall(0, ProviderNames.Cuda));
        Assert.Equal(64, InferenceOptions.PrefillTokensPerCall(64, ProviderNames.TensorRt));
        Assert.Contains(new InferenceOptions { Model = "m", MaxPrefillTokensPerCall = -1 }.Problems(), p => p.Contains("MaxPrefillTokensPerCall", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(CpuArenas.Shared)]
    [InlineData(CpuArenas.Session)]
    [InlineData(CpuArenas.Off)]
    public void ChunkedPrefill_GivesTheLogitsOfOneCall(string arena)
    {
        VlmAnswer Run(int chunk, List<float[]> logits)
        {
            var options = new InferenceOptions { Model = _packages.SmolVlm, PixelThreads = 2, MaxPrefillTokensPerCall = chunk };
            options.Providers.Order = [ProviderNames.Cpu];
            options.Providers.Cpu.MemoryArena = arena;
            using VlmPipeline pipeline = VlmPipeline.Open(options);
            VisualTokens tokens = pipeline.Encode(new EncodeRequest(PipelineTests.Frame(640, 480)));
            var request = new GenerationRequest("Describe it.") { Sampling = new SamplingOptions { MaxNewTokens = 6, StopTokenIds = [-1] } };
            return pipeline.Answer(tokens, request, null, l => logits.Add(l.ToArray()));
        }

        var whole = new List<float[]>();
        var chunked = new List<float[]>();
        VlmAnswer a = Run(32_768, whole);
        VlmAnswer b = Run(7, chunked);

        Assert.True(a.Tokens.Prompt > 7 * 3, $"the prompt ({a.Tokens.Prompt} tokens) should take several chunks");
        Assert.Equal(a.TokenIds, b.TokenIds);
        Assert.Equal(whole.Count, chunked.Count);
        for (int step = 0; step < whole.Count; step++)
        {
            float maxDiff = whole[step].Zip(chunked[step], (x, y) => MathF.Abs(x - y)).Max();
            Assert.True(maxDiff < 2e-3f, $"step {step}: max |Δlogit| = {maxDiff}");
        }
    }
}
