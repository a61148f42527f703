using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Schema;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Models.Families;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>One type per model family (docs/architecture.md): what each family decides, and an unknown one refused by name.</summary>
public sealed class ModelFamilyTests
{
    [Fact]
    public void EachFamily_KnowsItsContractTemplateSchemaAndEncoderCall()
    {
        ModelFamily smol = ModelFamily.Get(ModelFamilies.SmolVlm);
        ModelFamily minicpm = ModelFamily.Get(ModelFamilies.MiniCpmV);
        ModelFamily uhd = ModelFamily.Get(ModelFamilies.LlavaUhd);

        Assert.Equal((TensorLayout.PaddedBatch, SchemaLayout.Idefics3, 3, "<image>"), (smol.EncoderLayout, smol.SchemaLayout, smol.Contracts.Count, smol.ImagePlaceholder));
        Assert.Equal((TensorLayout.PerView, SchemaLayout.MiniCpmV26, 4, "<unk>"), (minicpm.EncoderLayout, minicpm.SchemaLayout, minicpm.Contracts.Count, minicpm.ImagePlaceholder));
        Assert.Equal((TensorLayout.PerView, SchemaLayout.LlavaUhdV1, 4, "<image>"), (uhd.EncoderLayout, uhd.SchemaLayout, uhd.Contracts.Count, uhd.ImagePlaceholder));
        Assert.Same(ModelContracts.SmolVlm, ModelContracts.For(ModelFamilies.SmolVlm));
        Assert.Same(ModelContracts.MiniCpmV, ModelContracts.For(ModelFamilies.LlavaUhd));
        Assert.NotEqual(smol.Template, smol.TextOnlyTemplate);
        Assert.Equal(smol.Template, uhd.Template); // the llava-uhd family speaks SmolVLM's template (docs/llava-uhd.md)
        Assert.Equal(smol.SpecialTokens, uhd.SpecialTokens);
    }

    [Fact]
    public void AnUnknownFamily_IsRefusedNamingTheKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelFamily.Get("llava-next"));

        Assert.StartsWith("unknown model family 'llava-next' (known: smolvlm, minicpmv, llava-uhd)", ex.Message, StringComparison.Ordinal);
    }
}
