using System.Diagnostics;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Service.Frames;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>One question about one region of one frame, waiting for the model. Owns its frame lease.</summary>
internal sealed class WorkItem : IDisposable
{
    private readonly TaskCompletionSource<WorkResult> _done;
    private readonly TaskCompletionSource<EncodeResult> _encoded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="completeInline">
    /// The awaiter of <see cref="Completion"/> goes on on the model's thread, right after the answer, instead of
    /// waiting for a thread-pool thread: for a light continuation (an MQTT question's reply goes to the outbox and the
    /// network), one wake-up fewer between the answer and its PUBLISH (docs/performance.md, "Question to answer").
    /// Heavy continuations (token packets, snapshots) keep the default so the model goes on with the next item.
    /// </param>
    public WorkItem(FrameLease frame, PixelRect roi, string question, CompressionProfile profile, int? maxNewTokens, string origin, bool completeInline = false)
    {
        _done = new(completeInline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
        Frame = frame;
        Roi = roi;
        Question = question;
        Profile = profile;
        MaxNewTokens = maxNewTokens;
        Origin = origin;
    }

    public FrameLease Frame { get; }

    public string Camera => Frame.Frame.CameraId;

    public PixelRect Roi { get; }

    public string Question { get; }

    public CompressionProfile Profile { get; }

    public int? MaxNewTokens { get; }

    /// <summary>Who asked (a standing question's name, or <c>mqtt</c>).</summary>
    public string Origin { get; }

    public long EnqueuedAt { get; set; }

    public Task<WorkResult> Completion => _done.Task;

    /// <summary>Encoder role: only encode (no answer); the result comes through <see cref="Encoded"/>.</summary>
    public bool EncodeOnly { get; init; }

    public Task<EncodeResult> Encoded => _encoded.Task;

    public CancellationToken Cancellation { get; init; }

    /// <summary>The answer's type (null: free text): the model decodes only text of this type.</summary>
    public AnswerType? AnswerType { get; init; }

    internal void Complete(WorkResult result) => _done.TrySetResult(result);

    internal void Complete(EncodeResult result) => _encoded.TrySetResult(result);

    internal void Fail(Exception ex)
    {
        if (EncodeOnly)
        {
            _encoded.TrySetException(ex);
        }
        else
        {
            _done.TrySetException(ex);
        }
    }

    internal void Cancel()
    {
        if (EncodeOnly)
        {
            _encoded.TrySetCanceled();
        }
        else
        {
            _done.TrySetCanceled();
        }
    }

    public void Dispose() => Frame.Dispose();

    internal static long Now() => Stopwatch.GetTimestamp();
}
