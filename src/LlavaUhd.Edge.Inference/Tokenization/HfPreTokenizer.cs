using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace LlavaUhd.Edge.Inference.Tokenization;

/// <summary>
/// The pre-tokenizer of a Hugging Face <c>tokenizer.json</c>, with the semantics of the reference <c>tokenizers</c>
/// library (docs/tokenizer.md): added tokens are cut out first (leftmost, then longest), then every step of the
/// <c>Sequence</c> splits each piece the previous step produced — <c>Digits</c>, <c>ByteLevel</c> (the GPT-2 split)
/// and <c>Split</c> with a regex. The GPT-2 split is a scanner over Unicode scalar values, not a .NET regex, because a
/// .NET regex sees UTF-16 code units and would classify astral letters and digits (𝐀, 𝟙) as "other".
/// </summary>
public sealed class HfPreTokenizer : PreTokenizer
{
    private readonly IReadOnlyList<Step> _steps;
    private readonly Dictionary<char, string[]> _addedByFirstChar;

    private HfPreTokenizer(IReadOnlyList<Step> steps, IEnumerable<string> addedTokens)
    {
        _steps = steps;
        _addedByFirstChar = addedTokens
            .Where(t => t.Length > 0)
            .GroupBy(t => t[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Length).ThenBy(t => t, StringComparer.Ordinal).ToArray());
    }

    /// <summary>The kinds of pre-tokenizer step this class implements.</summary>
    public static IReadOnlyList<string> SupportedSteps { get; } = ["Digits", "ByteLevel", "Split"];

    /// <summary>
    /// Builds the pre-tokenizer from the <c>pre_tokenizer</c> element of <c>tokenizer.json</c> (an object, a
    /// <c>Sequence</c> or null: null means no split, as in the reference).
    /// </summary>
    /// <exception cref="NotSupportedException">A step or option the reference has but this class does not.</exception>
    public static HfPreTokenizer Create(System.Text.Json.JsonElement? preTokenizer, IEnumerable<string> addedTokens)
    {
        var steps = new List<Step>();
        if (preTokenizer is { ValueKind: System.Text.Json.JsonValueKind.Object } pre)
        {
            IEnumerable<System.Text.Json.JsonElement> parts = pre.GetProperty("type").GetString() == "Sequence"
                ? pre.GetProperty("pretokenizers").EnumerateArray()
                : [pre];
            foreach (System.Text.Json.JsonElement p in parts)
            {
                steps.Add(StepOf(p));
            }
        }

        return new HfPreTokenizer(steps, addedTokens);
    }

    /// <summary>The pieces of <paramref name="text"/> as (offset, length) in UTF-16 code units.</summary>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Split(text.AsSpan());
    }

    /// <inheritdoc cref="PreTokenize(string)"/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    private List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var result = new List<(int Offset, int Length)>();
        var current = new List<(int Offset, int Length)>();
        var next = new List<(int Offset, int Length)>();
        int start = 0;
        int i = 0;
        while (i < text.Length)
        {
            int added = MatchAdded(text, i);
            if (added == 0)
            {
                i++;
                continue;
            }

            SplitPlain(text, start, i - start, current, next, result);
            result.Add((i, added));
            i += added;
            start = i;
        }

        SplitPlain(text, start, text.Length - start, current, next, result);
        return result;
    }

    private int MatchAdded(ReadOnlySpan<char> text, int at)
    {
        if (!_addedByFirstChar.TryGetValue(text[at], out string[]? candidates))
        {
            return 0;
        }

        foreach (string token in candidates)
        {
            if (text[at..].StartsWith(token, StringComparison.Ordinal))
            {
                return token.Length;
            }
        }

        return 0;
    }

    private void SplitPlain(
        ReadOnlySpan<char> text,
        int offset,
        int length,
        List<(int Offset, int Length)> current,
        List<(int Offset, int Length)> next,
        List<(int Offset, int Length)> result)
    {
        if (length == 0)
        {
            return;
        }

        current.Clear();
        current.Add((offset, length));
        foreach (Step step in _steps)
        {
            next.Clear();
            foreach ((int o, int l) in current)
            {
                step.Split(text, o, l, next);
            }

            (current, next) = (next, current);
        }

        result.AddRange(current);
    }

    private static Step StepOf(System.Text.Json.JsonElement p)
    {
        string type = p.GetProperty("type").GetString() ?? "";
        switch (type)
        {
            case "Digits":
                return new DigitsStep(p.TryGetProperty("individual_digits", out System.Text.Json.JsonElement ind) && ind.GetBoolean());
            case "ByteLevel":
                if (p.TryGetProperty("add_prefix_space", out System.Text.Json.JsonElement aps) && aps.GetBoolean())
                {
                    // The reference inserts a space before the first word; offsets into the original text cannot express that.
                    throw new NotSupportedException("pre_tokenizer ByteLevel with add_prefix_space=true is not supported");
                }

                return new ByteLevelStep(!p.TryGetProperty("use_regex", out System.Text.Json.JsonElement useRegex) || useRegex.GetBoolean());
            case "Split":
                return SplitStep.Create(p);
            default:
                throw new NotSupportedException(
                    $"pre_tokenizer step '{type}' is not supported (supported: {string.Join(", ", SupportedSteps)})");
        }
    }

    private abstract class Step
    {
        /// <summary>Appends the pieces of <c>text[offset..offset+length]</c> to <paramref name="output"/>.</summary>
        public abstract void Split(ReadOnlySpan<char> text, int offset, int length, List<(int Offset, int Length)> output);
    }

    /// <summary><c>Digits</c>: every number character alone (individual) or runs of them, the rest between them whole.</summary>
    private sealed class DigitsStep(bool individual) : Step
    {
        public override void Split(ReadOnlySpan<char> text, int offset, int length, List<(int Offset, int Length)> output)
        {
            int end = offset + length;
            int i = offset;
            while (i < end)
            {
                Rune r = RuneAt(text, i, end);
                bool number = IsNumber(r);
                int j = i + r.Utf16SequenceLength;
                if (!number || !individual)
                {
                    while (j < end)
                    {
                        Rune s = RuneAt(text, j, end);
                        if (IsNumber(s) != number)
                        {
                            break;
                        }

                        j += s.Utf16SequenceLength;
                    }
                }

                output.Add((i, j - i));
                i = j;
            }
        }
    }

    /// <summary>
    /// <c>ByteLevel</c>: the GPT-2 split <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>
    /// (or no split when <c>use_regex</c> is false; the byte mapping itself is the BPE model's).
    /// </summary>
    private sealed class ByteLevelStep(bool useRegex) : Step
    {
        public override void Split(ReadOnlySpan<char> text, int offset, int length, List<(int Offset, int Length)> output)
        {
            if (!useRegex)
            {
                output.Add((offset, length));
                return;
            }

            int end = offset + length;
            int i = offset;
            while (i < end)
            {
                int n = MatchAt(text, i, end);
                output.Add((i, n));
                i += n;
            }
        }

        private static int MatchAt(ReadOnlySpan<char> text, int i, int end)
        {
            char c = text[i];
            if (c == '\'' && i + 1 < end)
            {
                char a = text[i + 1];
                if (a is 's' or 't' or 'm' or 'd')
                {
                    return 2;
                }

                if (i + 2 < end)
                {
                    char b = text[i + 2];
                    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
                    {
                        return 3;
                    }
                }
            }

            // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional single space, then a run of one class.
            int j = c == ' ' && i + 1 < end ? i + 1 : i;
            Rune first = RuneAt(text, j, end);
            CharClass cls = ClassOf(first);
            if (cls != CharClass.Space)
            {
                int k = j + first.Utf16SequenceLength;
                while (k < end)
                {
                    Rune r = RuneAt(text, k, end);
                    if (ClassOf(r) != cls)
                    {
                        break;
                    }

                    k += r.Utf16SequenceLength;
                }

                return k - i;
            }

            // "\s+(?!\S)" then "\s+": a whitespace run; before a non-space, its last character is left to the next piece.
            int w = i;
            while (w < end)
            {
                Rune r = RuneAt(text, w, end);
                if (ClassOf(r) != CharClass.Space)
                {
                    break;
                }

                w += r.Utf16SequenceLength;
            }

            if (w == end)
            {
                return w - i;
            }

            int lastLength = char.IsLowSurrogate(text[w - 1]) ? 2 : 1;
            return w - lastLength > i ? w - lastLength - i : w - i;
        }
    }

    /// <summary><c>Split</c> with a regex pattern (Qwen2 style): matches and the gaps between them per <c>behavior</c>.</summary>
    private sealed class SplitStep : Step
    {
        private readonly Regex _regex;
        private readonly string _behavior;

        private SplitStep(Regex regex, string behavior)
        {
            _regex = regex;
            _behavior = behavior;
        }

        public static SplitStep Create(System.Text.Json.JsonElement p)
        {
            System.Text.Json.JsonElement pattern = p.GetProperty("pattern");
            string regex = pattern.TryGetProperty("Regex", out System.Text.Json.JsonElement r) ? r.GetString()!
                : Regex.Escape(pattern.GetProperty("String").GetString()!);
            string behavior = p.TryGetProperty("behavior", out System.Text.Json.JsonElement b) ? b.GetString() ?? "Isolated" : "Isolated";
            if (p.TryGetProperty("invert", out System.Text.Json.JsonElement inv) && inv.GetBoolean())
            {
                throw new NotSupportedException("pre_tokenizer Split with invert=true is not supported");
            }

            if (behavior is not ("Isolated" or "Removed"))
            {
                throw new NotSupportedException($"pre_tokenizer Split behavior '{behavior}' is not supported (Isolated, Removed)");
            }

            return new SplitStep(new Regex(regex, RegexOptions.Compiled | RegexOptions.CultureInvariant), behavior);
        }

        public override void Split(ReadOnlySpan<char> text, int offset, int length, List<(int Offset, int Length)> output)
        {
            int last = offset;
            foreach (ValueMatch m in _regex.EnumerateMatches(text.Slice(offset, length)))
            {
                if (m.Length == 0)
                {
                    continue;
                }

                int at = offset + m.Index;
                if (at > last)
                {
                    output.Add((last, at - last));
                }

                if (_behavior == "Isolated")
                {
                    output.Add((at, m.Length));
                }

                last = at + m.Length;
            }

            if (offset + length > last)
            {
                output.Add((last, offset + length - last));
            }
        }
    }

    private enum CharClass
    {
        Letter,
        Number,
        Space,
        Other,
    }

    private static CharClass ClassOf(Rune r)
    {
        if (Rune.IsWhiteSpace(r))
        {
            return CharClass.Space;
        }

        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Number,
            _ => CharClass.Other,
        };
    }

    private static bool IsNumber(Rune r) => ClassOf(r) == CharClass.Number;

    /// <summary>The scalar value at <paramref name="i"/>; a lone surrogate reads as U+FFFD (one code unit).</summary>
    private static Rune RuneAt(ReadOnlySpan<char> text, int i, int end) =>
        Rune.DecodeFromUtf16(text[i..end], out Rune r, out _) == OperationStatus.Done ? r : Rune.ReplacementChar;
}
