namespace LlavaUhd.Edge.Core.Prompting;

/// <summary>A prompt that cannot be built (a malformed template, a question smuggling reserved tokens).</summary>
public sealed class PromptException : Exception
{
    public PromptException()
    {
    }

    public PromptException(string message)
        : base(message)
    {
    }

    public PromptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
