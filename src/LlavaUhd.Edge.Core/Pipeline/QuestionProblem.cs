namespace LlavaUhd.Edge.Core.Pipeline;

/// <summary>Why a question cannot be asked of a model, found before any work is done (a client error, not a failure).</summary>
/// <param name="Code">A machine-readable code: <see cref="ReservedToken"/> or <see cref="TooLong"/>.</param>
/// <param name="Message">What is wrong and what to do, for the person who asked.</param>
public sealed record QuestionProblem(string Code, string Message)
{
    /// <summary>The question spells one of the model's control tokens (<c>&lt;image&gt;</c>, <c>&lt;end_of_utterance&gt;</c>, …).</summary>
    public const string ReservedToken = "reserved_token";

    /// <summary>The question has more tokens than a question may have.</summary>
    public const string TooLong = "question_too_long";
}
