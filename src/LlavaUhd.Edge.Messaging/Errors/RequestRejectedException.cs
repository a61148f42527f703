using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Messaging.Errors;

/// <summary>
/// Thrown by an <see cref="IQuestionHandler"/> to refuse a question with a specific error code (for example
/// <see cref="ErrorCodes.Busy"/> when the model's queue is full, or <see cref="ErrorCodes.InvalidField"/> for a region
/// outside the frame); the client answers it with that code instead of <c>internal_error</c>.
/// </summary>
public sealed class RequestRejectedException : Exception
{
    public RequestRejectedException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    public RequestRejectedException()
        : this(ErrorCodes.Rejected, "Rejected.")
    {
    }

    public RequestRejectedException(string message)
        : this(ErrorCodes.Rejected, message)
    {
    }

    public RequestRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = ErrorCodes.Rejected;
    }

    /// <summary>One of <see cref="ErrorCodes"/>.</summary>
    public string Code { get; }
}
