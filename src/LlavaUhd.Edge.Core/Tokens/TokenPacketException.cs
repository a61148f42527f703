namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>A token packet that cannot be written or read; <see cref="Error"/> says which check failed.</summary>
public sealed class TokenPacketException : Exception
{
    public TokenPacketException()
    {
    }

    public TokenPacketException(string message)
        : base(message)
    {
    }

    public TokenPacketException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public TokenPacketException(TokenPacketError error, string message)
        : base($"{error}: {message}")
    {
        Error = error;
    }

    public TokenPacketError Error { get; }
}
