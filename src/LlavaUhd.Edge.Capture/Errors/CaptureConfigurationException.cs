namespace LlavaUhd.Edge.Capture.Errors;

/// <summary>Capture configuration is invalid; <see cref="Problems"/> lists every problem found, not just the first.</summary>
public sealed class CaptureConfigurationException : Exception
{
    public CaptureConfigurationException()
        : this([])
    {
    }

    public CaptureConfigurationException(string message)
        : this([message])
    {
    }

    public CaptureConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    public CaptureConfigurationException(IReadOnlyList<string> problems)
        : base(Format(problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }

    private static string Format(IReadOnlyList<string> problems) =>
        problems.Count == 0
            ? "Invalid capture configuration."
            : $"Invalid capture configuration ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}";
}
