namespace LlavaUhd.Edge.Inference.Models;

/// <summary>One input or output of a session contract. <see cref="Name"/> may hold <c>{i}</c>, the layer index.</summary>
public sealed record TensorContract(string Name, string DType, int Rank, bool Optional = false)
{
    public bool IsPerLayer => Name.Contains("{i}", StringComparison.Ordinal);

    public bool Matches(string name)
    {
        if (!IsPerLayer)
        {
            return name == Name;
        }

        int at = Name.IndexOf("{i}", StringComparison.Ordinal);
        string prefix = Name[..at];
        string suffix = Name[(at + 3)..];
        return name.Length > prefix.Length + suffix.Length
            && name.StartsWith(prefix, StringComparison.Ordinal)
            && name.EndsWith(suffix, StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(prefix.Length, name.Length - prefix.Length - suffix.Length), out int layer)
            && layer >= 0;
    }
}
