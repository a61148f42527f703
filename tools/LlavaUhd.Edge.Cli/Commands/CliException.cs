namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>An error in the command's input that the user can fix (a missing file, a bad image); printed without a stack trace.</summary>
internal sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
