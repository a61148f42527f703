using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Messaging;

/// <summary>A rejected request: one of <see cref="ErrorCodes"/> and a human-readable reason.</summary>
public sealed record RequestError(string Code, string Message);
