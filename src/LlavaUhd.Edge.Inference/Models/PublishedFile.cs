namespace LlavaUhd.Edge.Inference.Models;

/// <summary>One file of a public export: its path in the repository, size and sha256.</summary>
public sealed record PublishedFile(string Repository, string Path, long Bytes, string Sha256)
{
    public override string ToString() => $"{Repository} {Path}";
}
