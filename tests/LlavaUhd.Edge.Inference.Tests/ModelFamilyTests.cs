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

        Assert.Equal((TensorLayout.PaddedBatch, SchemaLayout.Idefics3, 3), (smol.EncoderLayout, smol.SchemaLayout, smol.Contracts.Count));
        Assert.Equal((TensorLayout.PerView, SchemaLayout.MiniCpmV26, 4), (minicpm.EncoderLayout, minicpm.SchemaLayout, minicpm.Contracts.Count));
        Assert.Same(ModelContracts.SmolVlm, ModelContracts.For(ModelFamilies.SmolVlm));
        Assert.NotEqual(smol.Template, smol.TextOnlyTemplate);
    }

    [Fact]
    public void AnUnknownFamily_IsRefusedNamingTheKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelFamily.Get("llava-next"));

        Assert.StartsWith("unknown model family 'llava-next' (known: smolvlm, minicpmv)", ex.Message, StringComparison.Ordinal);
    }
}
