namespace LlavaUhd.Edge.Messaging;

/// <summary>Outcome of parsing an <c>ask</c> or <c>set</c> payload: a value or an error, and where to reply either way.</summary>
public readonly record struct ParseResult<T>(T? Value, RequestError? Error, ReplyRoute Reply)
    where T : class
{
    public bool IsSuccess => Value is not null;
}
