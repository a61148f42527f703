namespace LlavaUhd.Edge.Inference.Providers;

/// <summary>The values of <see cref="CpuOptions.MemoryArena"/> (docs/memory.md).</summary>
public static class CpuArenas
{
    public const string Shared = "shared";
    public const string Session = "session";
    public const string Off = "off";

    public static IReadOnlyList<string> All { get; } = [Shared, Session, Off];
}
