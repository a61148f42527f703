namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>Why generation ended.</summary>
public enum StopReason
{
    StopToken,
    MaxTokens,
    Cancelled,
}
