namespace LlavaUhd.Edge.Inference.Providers;

/// <summary>The required provider is not available in this ONNX Runtime build or on this machine.</summary>
public sealed class ProviderUnavailableException : Exception
{
    public ProviderUnavailableException()
    {
    }

    public ProviderUnavailableException(string message)
        : base(message)
    {
    }

    public ProviderUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
