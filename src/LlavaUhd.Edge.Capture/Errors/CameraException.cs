namespace LlavaUhd.Edge.Capture.Errors;

/// <summary>A camera could not be opened or read; the message says which camera and why.</summary>
public sealed class CameraException : Exception
{
    public CameraException()
    {
    }

    public CameraException(string message)
        : base(message)
    {
    }

    public CameraException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
