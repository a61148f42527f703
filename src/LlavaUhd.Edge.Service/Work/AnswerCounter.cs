namespace LlavaUhd.Edge.Service.Work;

/// <summary>Counts answers for <c>--max-answers</c> and stops the host after the last one.</summary>
internal sealed class AnswerCounter
{
    private readonly int _max;
    private readonly Action _stop;
    private long _count;

    public AnswerCounter(int maxAnswers, Action stop)
    {
        _max = maxAnswers;
        _stop = stop;
    }

    public long Count => Interlocked.Read(ref _count);

    public int Max => _max;

    /// <summary>True when this answer may be published (false once the limit was reached); stops the host at the limit.</summary>
    public bool TryTake()
    {
        long n = Interlocked.Increment(ref _count);
        if (_max > 0 && n > _max)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        if (_max > 0 && n == _max)
        {
            _stop();
        }

        return true;
    }
}
