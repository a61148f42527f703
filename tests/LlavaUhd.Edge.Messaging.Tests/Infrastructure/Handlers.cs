using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Messaging.Tests.Infrastructure;

/// <summary>Answers at once: "echo: &lt;question&gt;".</summary>
public sealed class EchoHandler : IQuestionHandler
{
    public static readonly DateTimeOffset FrameTime = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public ValueTask<QuestionAnswer> AnswerAsync(Question question, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new QuestionAnswer
        {
            Answer = "echo: " + question.Text,
            Model = "test-model",
            FrameTimestamp = FrameTime,
            PromptTokens = 12,
            CompletionTokens = 3,
            VisualTokens = 640,
            Timings = new AnswerTimings { EncodeMs = 1.5, DecodeMs = 2.5, TotalMs = 4 },
        });
}

/// <summary>Blocks every question until <see cref="Release"/>; counts how many it holds.</summary>
public sealed class GatedHandler : IQuestionHandler
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inside;
    private int _maxInside;

    public int MaxInside => Volatile.Read(ref _maxInside);

    public void Release() => _gate.TrySetResult();

    public async ValueTask<QuestionAnswer> AnswerAsync(Question question, CancellationToken cancellationToken)
    {
        int n = Interlocked.Increment(ref _inside);
        int max;
        while (n > (max = Volatile.Read(ref _maxInside)) && Interlocked.CompareExchange(ref _maxInside, n, max) != max)
        {
        }

        await _gate.Task.WaitAsync(cancellationToken);
        Interlocked.Decrement(ref _inside);
        return new QuestionAnswer { Answer = "ok", Model = "gated" };
    }
}
