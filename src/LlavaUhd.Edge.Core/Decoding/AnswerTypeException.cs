namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>A typed answer's specification is invalid: <see cref="Exception.Message"/> says which field and why.</summary>
public sealed class AnswerTypeException(string message) : Exception(message);
