namespace LlavaUhd.Edge.Messaging.Errors;

/// <summary>The outbox reached its size bound and its policy is <see cref="Options.OutboxFullPolicy.Reject"/>.</summary>
public sealed class OutboxFullException : IOException
{
    public OutboxFullException(string message)
        : base(message)
    {
    }

    public OutboxFullException()
    {
    }

    public OutboxFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
