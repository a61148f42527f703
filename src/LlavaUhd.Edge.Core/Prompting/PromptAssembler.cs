using System.Collections.Immutable;
using LlavaUhd.Edge.Core.Schema;

namespace LlavaUhd.Edge.Core.Prompting;

/// <summary>Turns text into token ids. Special tokens written in the text (e.g. <c>&lt;image&gt;</c>) become their ids; no BOS is added.</summary>
public interface ITextTokenizer
{
    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    void Encode(string text, List<int> ids);

    /// <summary>The id of a single (special) token, or null when the vocabulary has no such token.</summary>
    int? TokenToId(string token);
}

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

/// <summary>A run of visual placeholder positions in the prompt and the view whose features fill it.</summary>
public readonly record struct VisualSpan(int Start, int Count, int View);

/// <summary>The token ids of a prompt and where the visual features go.</summary>
public sealed class AssembledPrompt
{
    internal AssembledPrompt(int[] ids, ImmutableArray<VisualSpan> spans)
    {
        Ids = ids;
        Spans = spans;
        VisualTokenCount = spans.Sum(s => s.Count);
    }

    public IReadOnlyList<int> Ids { get; }

    /// <summary>Placeholder runs in prompt order (the order features are written in).</summary>
    public ImmutableArray<VisualSpan> Spans { get; }

    public int VisualTokenCount { get; }

    public int Length => Ids.Count;
}

/// <summary>A prompt that cannot be built (a malformed template, a question smuggling reserved tokens).</summary>
public sealed class PromptException : Exception
{
    public PromptException()
    {
    }

    public PromptException(string message)
        : base(message)
    {
    }

    public PromptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Builds the prompt's token ids: the text between placeholder runs (template, layout literals and the question) is
/// tokenised as one string, exactly as the reference processor tokenises the expanded prompt, and each view's
/// placeholders are inserted as
/// <c>placeholderId</c> runs whose positions are returned, so features can be written there in schema order.
/// </summary>
public static class PromptAssembler
{
    public const int MaxQuestionLength = 4096;

    public static AssembledPrompt Assemble(
        PromptTemplate template,
        PromptLayout? image,
        string question,
        ITextTokenizer tokenizer,
        int placeholderId,
        IReadOnlyCollection<int>? reservedIds = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (question.Length > MaxQuestionLength)
        {
            throw new PromptException($"The question is {question.Length} characters long; the limit is {MaxQuestionLength}.");
        }

        var ids = new List<int>(256 + (image?.PlaceholderCount ?? 0));
        var spans = ImmutableArray.CreateBuilder<VisualSpan>();
        string text = template.Text;
        int q = text.IndexOf(PromptTemplate.QuestionMarker, StringComparison.Ordinal);
        int i = text.IndexOf(PromptTemplate.ImageMarker, StringComparison.Ordinal);
        if (image is not null && i < 0)
        {
            throw new PromptException($"The prompt template has no {PromptTemplate.ImageMarker} marker, but an image was given.");
        }

        // Pieces in text order: literal, image, literal, question, literal (image and question in either order).
        var pieces = new List<(int At, int Length, bool IsImage)> { (q, PromptTemplate.QuestionMarker.Length, false) };
        if (i >= 0)
        {
            pieces.Add((i, PromptTemplate.ImageMarker.Length, true));
        }

        pieces.Sort((a, b) => a.At.CompareTo(b.At));
        CheckQuestion(question, tokenizer, placeholderId, reservedIds);

        // Adjacent text (template literals, layout literals, the question) is tokenised as one string, as the reference
        // processor tokenises the whole expanded prompt: "\n" + "\n<fake_token_around_image>" must give the "\n\n" token.
        var pending = new System.Text.StringBuilder();
        int cursor = 0;
        foreach ((int at, int length, bool isImage) in pieces)
        {
            pending.Append(text, cursor, at - cursor);
            if (isImage)
            {
                if (image is not null)
                {
                    AppendLayout(image, tokenizer, placeholderId, ids, spans, pending);
                }
            }
            else
            {
                pending.Append(question);
            }

            cursor = at + length;
        }

        pending.Append(text, cursor, text.Length - cursor);
        Flush(pending, tokenizer, ids);
        return new AssembledPrompt([.. ids], spans.ToImmutable());
    }

    private static void AppendLayout(PromptLayout layout, ITextTokenizer tokenizer, int placeholderId, List<int> ids, ImmutableArray<VisualSpan>.Builder spans, System.Text.StringBuilder pending)
    {
        foreach (PromptSegment segment in layout.Segments)
        {
            if (segment.IsPlaceholder)
            {
                Flush(pending, tokenizer, ids);
                spans.Add(new VisualSpan(ids.Count, segment.Count, segment.View));
                for (int k = 0; k < segment.Count; k++)
                {
                    ids.Add(placeholderId);
                }
            }
            else
            {
                pending.Append(segment.Text);
            }
        }
    }

    private static void CheckQuestion(string question, ITextTokenizer tokenizer, int placeholderId, IReadOnlyCollection<int>? reserved)
    {
        var ids = new List<int>(question.Length + 1);
        tokenizer.Encode(question, ids);
        foreach (int id in ids)
        {
            if (id == placeholderId || (reserved is not null && reserved.Contains(id)))
            {
                throw new PromptException("The question contains a reserved model token (such as <image>); remove it and ask again.");
            }
        }
    }

    private static void Flush(System.Text.StringBuilder pending, ITextTokenizer tokenizer, List<int> ids)
    {
        if (pending.Length > 0)
        {
            tokenizer.Encode(pending.ToString(), ids);
            pending.Clear();
        }
    }
}
