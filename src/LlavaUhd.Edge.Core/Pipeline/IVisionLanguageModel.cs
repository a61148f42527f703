using LlavaUhd.Edge.Core.Tokens;

namespace LlavaUhd.Edge.Core.Pipeline;

/// <summary>A vision-language model that answers questions about regions: encode once, answer one or more questions.</summary>
public interface IVisionLanguageModel : IDisposable
{
    /// <summary>The package name (model.json's name).</summary>
    string ModelId { get; }

    /// <summary>The execution provider the sessions run on (tensorrt, cuda, cpu).</summary>
    string Provider { get; }

    /// <summary>Who this model's visual tokens come from (model id + vision/connector weights hash).</summary>
    EncoderIdentity Encoder { get; }

    /// <summary>Plans, preprocesses, encodes and compresses a region.</summary>
    VisualTokens Encode(EncodeRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Checks a question before any work is queued: null when it can be asked, else why not (it spells a reserved
    /// model token, or it is too long). Models without a tokenizer of their own accept every question.
    /// </summary>
    QuestionProblem? CheckQuestion(string question) => null;

    /// <summary>
    /// Encodes regions that arrived together, results in request order. Models that can batch (the ONNX pipeline:
    /// one encoder call for all tiles) override this; the default encodes one by one.
    /// </summary>
    IReadOnlyList<VisualTokens> EncodeBatch(IReadOnlyList<EncodeRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var tokens = new VisualTokens[requests.Count];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = Encode(requests[i], cancellationToken);
        }

        return tokens;
    }

    /// <summary>Answers <paramref name="request"/> about <paramref name="image"/> (or text only when null), streaming text pieces to <paramref name="onToken"/>.</summary>
    VlmAnswer Answer(VisualTokens? image, GenerationRequest request, Action<string>? onToken = null, CancellationToken cancellationToken = default);
}
