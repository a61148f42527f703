using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Service.Http;

/// <summary>The last <see cref="Capacity"/> answers (fed by <c>IEdgePublisher.AnswerPublished</c>) for the status page.</summary>
internal sealed class AnswerLog
{
    public const int Capacity = 20;

    private readonly Lock _lock = new();
    private readonly AnswerMessage[] _ring = new AnswerMessage[Capacity];
    private int _next;
    private int _count;

    public void Add(AnswerMessage answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        lock (_lock)
        {
            _ring[_next] = answer;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>The answers held, newest first.</summary>
    public IReadOnlyList<AnswerMessage> Latest()
    {
        lock (_lock)
        {
            var list = new List<AnswerMessage>(_count);
            for (int i = 1; i <= _count; i++)
            {
                list.Add(_ring[(_next - i + Capacity) % Capacity]);
            }

            return list;
        }
    }
}
