using System.Collections.Immutable;
using LlavaUhd.Edge.Core.Schema;

namespace LlavaUhd.Edge.Core.Prompting;

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
