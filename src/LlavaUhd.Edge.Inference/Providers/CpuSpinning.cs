namespace LlavaUhd.Edge.Inference.Providers;

/// <summary>The values of <see cref="CpuOptions.Spinning"/> (docs/cpu-decoder.md, "Spinning").</summary>
public static class CpuSpinning
{
    /// <summary>The decoder's threads spin between operators; the other sessions' threads sleep (the CLI's default).</summary>
    public const string Decoder = "decoder";

    /// <summary>Every session's threads spin between operators.</summary>
    public const string All = "all";

    /// <summary>No session's threads spin: a waiting thread sleeps at once (the service's default).</summary>
    public const string Off = "off";

    public static IReadOnlyList<string> Values { get; } = [Decoder, All, Off];
}
