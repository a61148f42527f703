namespace LlavaUhd.Edge.Inference.Models;

/// <summary>
/// The inputs and outputs a session must have. <see cref="InputForms"/>: groups of optional inputs of which exactly one
/// must be present whole (the decoder's standard and fused forms).
/// </summary>
public sealed record SessionContract(string Session, IReadOnlyList<TensorContract> Inputs, IReadOnlyList<TensorContract> Outputs)
{
    public IReadOnlyList<IReadOnlyList<string>> InputForms { get; init; } = [];
}
