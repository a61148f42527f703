namespace LlavaUhd.Edge.Core.Pipeline;

/// <summary>Milliseconds spent per stage.</summary>
public sealed record StageTimings
{
    public double PreprocessMs { get; init; }

    public double EncodeMs { get; init; }

    public double CompressMs { get; init; }

    /// <summary>Prompt assembly + prefill up to the first token (time to first token, after encoding).</summary>
    public double PrefillMs { get; init; }

    public double DecodeMs { get; init; }

    public double TotalMs { get; init; }

    public double DecodeTokensPerSecond { get; init; }
}
