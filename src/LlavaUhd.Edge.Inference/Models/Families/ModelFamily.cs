using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Schema;

namespace LlavaUhd.Edge.Inference.Models.Families;

/// <summary>
/// Everything the runtime does differently per model family, in one type per family (docs/architecture.md): the
/// package contract (sessions, inputs, outputs), the prompt templates and spatial-schema layout, how the vision
/// encoder is called (all views in one padded batch, or one call per view size), and the TensorRT shape profile of
/// that call. The slicing scheme itself travels in the package's <c>model.json</c> (<c>slicing.scheme</c>); adding a
/// family is one class here plus its name in <see cref="ModelFamilies"/>.
/// </summary>
public abstract class ModelFamily
{
    private static readonly ModelFamily[] s_all = [new SmolVlmFamily(), new MiniCpmVFamily(), new LlavaUhdFamily()];

    /// <summary>The name in <c>model.json</c> (<see cref="ModelFamilies"/>).</summary>
    public abstract string Name { get; }

    /// <summary>The sessions of a package of this family, with their inputs and outputs (models-quantized/README.md).</summary>
    public abstract IReadOnlyList<SessionContract> Contracts { get; }

    /// <summary>The chat template of a question about an image.</summary>
    public abstract PromptTemplate Template { get; }

    /// <summary>The chat template of a question without an image.</summary>
    public abstract PromptTemplate TextOnlyTemplate { get; }

    /// <summary>How the views are laid out for the language model (docs/slicing.md).</summary>
    public abstract SchemaLayout SchemaLayout { get; }

    /// <summary>How pixels reach the vision encoder: one padded batch of every view, or one call per view size.</summary>
    public abstract TensorLayout EncoderLayout { get; }

    /// <summary>The added token whose positions the visual tokens take in the prompt.</summary>
    public abstract string ImagePlaceholder { get; }

    /// <summary>The added tokens a package's tokenizer must have (the importer refuses a tokenizer without one).</summary>
    public abstract IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>
    /// The vision encoder's TensorRT optimisation profile: <paramref name="add"/> (input name, smallest, typical,
    /// largest shape) for each of its inputs.
    /// </summary>
    public abstract void AddVisionProfile(ModelManifest manifest, int maxViews, Action<string, long[], long[], long[]> add);

    /// <summary>The family named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such family.</exception>
    public static ModelFamily Get(string name) =>
        s_all.FirstOrDefault(f => f.Name == name)
        ?? throw new ArgumentException($"unknown model family '{name}' (known: {string.Join(", ", s_all.Select(f => f.Name))})", nameof(name));
}
