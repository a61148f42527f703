using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Providers;
using LlavaUhd.Edge.ModelBuilder.Generation;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// The LLaVA-UHD-style family (docs/llava-uhd.md): MiniCPM-V's sessions and adaptive slices, SmolVLM's real tokenizer
/// and chat template, LLaVA-UHD's spatial schema — on the generated tiny-llava-uhd package.
/// </summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class LlavaUhdFamilyTests
{
    private const int ImageTokenId = 49190; // "<image>" in SmolVLM-256M-Instruct's tokenizer

    private readonly GeneratedPackages _packages;

    public LlavaUhdFamilyTests(GeneratedPackages packages) => _packages = packages;

    [Fact]
    public void Generate_CarriesTheRealSmolVlmTokenizerAndTheFamilysContract()
    {
        ModelManifest m = ModelManifest.Read(Path.Combine(_packages.LlavaUhd, ModelManifest.FileName));

        Assert.Equal(ModelFamilies.LlavaUhd, m.Family);
        Assert.Equal(SliceSchemeNames.MiniCpmV, m.Slicing.Scheme);
        Assert.Equal(64, m.Slicing.TokensPerView);
        Assert.Equal(ImageTokenId, m.Tokens.ImageTokenId);
        Assert.Contains(49279, m.Tokens.EosTokenIds); // <end_of_utterance>
        Assert.Equal(ReferenceFiles.SmolVlm("tokenizer.json"), File.ReadAllBytes(Path.Combine(_packages.LlavaUhd, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(_packages.LlavaUhd, "onnx", "resampler.onnx")));
    }

    [Fact]
    public void Prompt_IsSmolVlmsTemplateAroundSlicesJoinedByCommasAndRowsThenTheOverview()
    {
        var options = new InferenceOptions { Model = _packages.LlavaUhd, PixelThreads = 1 };
        options.Providers.Order = [ProviderNames.Cpu];
        using VlmPipeline pipeline = VlmPipeline.Open(options);
        VisualTokens tokens = pipeline.Encode(new EncodeRequest(PipelineTests.Frame(1280, 720)));
        SlicePlan plan = tokens.Plan;
        Assert.NotNull(plan.Grid);
        GridSize grid = plan.Grid!.Value;
        Assert.True(grid.Rows * grid.Columns > 1);

        AssembledPrompt prompt = pipeline.BuildPrompt(tokens, "How many parcels are on the belt?");

        TokenizerAdapter tok = pipeline.Prompts.Tokenizer;
        string Text(int from, int to) => tok.Decode(prompt.Ids.Skip(from).Take(to - from));
        Assert.Equal(grid.Rows * grid.Columns + 1, prompt.Spans.Length);
        Assert.Equal(plan.TotalTokens, prompt.VisualTokenCount);
        Assert.All(prompt.Spans, s => Assert.All(prompt.Ids.Skip(s.Start).Take(s.Count), id => Assert.Equal(ImageTokenId, id)));
        Assert.Equal("<|im_start|>User:", Text(0, prompt.Spans[0].Start));
        for (int i = 0; i + 1 < prompt.Spans.Length; i++)
        {
            string between = Text(prompt.Spans[i].Start + prompt.Spans[i].Count, prompt.Spans[i + 1].Start);
            bool rowEnd = (i + 1) % grid.Columns == 0;
            Assert.Equal(rowEnd ? "\n" : ",", between);
        }

        Assert.Equal(plan.Views.Single(v => v.Kind == ViewKind.Overview).Index, prompt.Spans[^1].View);
        Assert.Equal("How many parcels are on the belt?<end_of_utterance>\nAssistant:", Text(prompt.Spans[^1].Start + prompt.Spans[^1].Count, prompt.Ids.Count));
    }
}
