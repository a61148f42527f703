namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>
/// A size or slicing parameter that cannot be planned. <see cref="Parameter"/> names the offending value
/// (e.g. <c>width</c>, <c>maxSlices</c>) and the message states the value and the allowed range.
/// </summary>
public sealed class SlicingException : Exception
{
    public SlicingException()
    {
    }

    public SlicingException(string message)
        : base(message)
    {
    }

    public SlicingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SlicingException(string parameter, string message)
        : base(message)
    {
        Parameter = parameter;
    }

    /// <summary>The name of the offending size or option (as the CLI and configuration spell it).</summary>
    public string? Parameter { get; }
}
