using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// The pipeline's side of a question: answers one validated <see cref="Question"/>. Called from
/// <see cref="Options.MqttOptions.QuestionWorkers"/> workers that read a bounded queue; the messaging layer turns the result
/// into an <see cref="AnswerMessage"/> and publishes it through the outbox, or an exception into an error reply.
/// </summary>
public interface IQuestionHandler
{
    ValueTask<QuestionAnswer> AnswerAsync(Question question, CancellationToken cancellationToken);
}
