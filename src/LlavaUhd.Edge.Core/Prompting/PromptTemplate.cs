namespace LlavaUhd.Edge.Core.Prompting;

/// <summary>
/// A single-turn prompt with the markers <c>{image}</c> (where the image's layout goes; optional) and
/// <c>{question}</c> (required), e.g. SmolVLM's <c>&lt;|im_start|&gt;User:{image}{question}&lt;end_of_utterance&gt;\nAssistant:</c>.
/// </summary>
public sealed record PromptTemplate
{
    public const string ImageMarker = "{image}";
    public const string QuestionMarker = "{question}";

    /// <summary>SmolVLM / Idefics3 chat template, one user turn with the image first, generation prompt added.</summary>
    public static PromptTemplate SmolVlm { get; } = new("<|im_start|>User:{image}{question}<end_of_utterance>\nAssistant:");

    /// <summary>SmolVLM's chat template for a user turn without an image (its first content is text: <c>": "</c>).</summary>
    public static PromptTemplate SmolVlmTextOnly { get; } = new("<|im_start|>User: {question}<end_of_utterance>\nAssistant:");

    /// <summary>MiniCPM-V 2.6 (Qwen2 ChatML) with the image before the question.</summary>
    public static PromptTemplate MiniCpmV26 { get; } = new("<|im_start|>user\n{image}\n{question}<|im_end|>\n<|im_start|>assistant\n");

    public PromptTemplate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int question = text.IndexOf(QuestionMarker, StringComparison.Ordinal);
        if (question < 0 || text.IndexOf(QuestionMarker, question + 1, StringComparison.Ordinal) >= 0)
        {
            throw new PromptException($"A prompt template must contain {QuestionMarker} exactly once: '{text}'.");
        }

        int image = text.IndexOf(ImageMarker, StringComparison.Ordinal);
        if (image >= 0 && text.IndexOf(ImageMarker, image + 1, StringComparison.Ordinal) >= 0)
        {
            throw new PromptException($"A prompt template may contain {ImageMarker} at most once: '{text}'.");
        }

        Text = text;
    }

    public string Text { get; }
}
