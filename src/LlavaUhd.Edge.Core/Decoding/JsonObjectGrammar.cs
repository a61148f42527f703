using System.Collections.Immutable;

namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>
/// A JSON object with the fields of a <see cref="AnswerKind.Json"/> answer in order, written compactly as
/// <c>{"a": true, "b": 3, "c": "jam"}</c>: fixed punctuation (literals) around each field's value grammar.
/// </summary>
internal sealed class JsonObjectGrammar : AnswerGrammar
{
    private readonly ImmutableArray<Segment> _segments;
    private readonly Dictionary<long, int> _ids = [];
    private readonly List<(int Segment, int Sub)> _states = [];
    private readonly int _beforeSpace;

    public JsonObjectGrammar(ImmutableArray<JsonField> fields)
    {
        var segments = new List<Segment>();
        string literal = "{";
        for (int i = 0; i < fields.Length; i++)
        {
            JsonField f = fields[i];
            literal += (i > 0 ? ", " : "") + "\"" + f.Name + "\": ";
            AnswerGrammar value;
            switch (f.Kind)
            {
                case JsonFieldKind.Boolean:
                    value = new ChoiceGrammar(["true", "false"], ignoreCase: false, leadingSpace: false);
                    break;
                case JsonFieldKind.Integer or JsonFieldKind.Number:
                    value = new NumberGrammar(f.Min, f.Max, f.Kind == JsonFieldKind.Integer, leadingSpace: false);
                    break;
                case JsonFieldKind.Enum:
                    value = new ChoiceGrammar(f.Options.Select(o => "\"" + o + "\""), ignoreCase: false, leadingSpace: false);
                    break;
                default:
                    literal += "\"";
                    segments.Add(new Segment(literal, null));
                    segments.Add(new Segment(null, new StringGrammar(f.MaxLength)));
                    literal = "\"";
                    continue;
            }

            segments.Add(new Segment(literal, null));
            segments.Add(new Segment(null, value));
            literal = "";
        }

        segments.Add(new Segment(literal + "}", null));
        _segments = [.. segments];
        _states.Add((-1, 0));   // state 0: before an optional leading space
        _beforeSpace = 0;
        MaxLength = 1 + segments.Sum(s => s.Literal?.Length ?? s.Value!.MaxLength);
    }

    public override int Start => _beforeSpace;

    public override int MaxLength { get; }

    public override int Next(int state, char c)
    {
        if ((uint)state >= (uint)_states.Count)
        {
            return Reject;
        }

        (int seg, int sub) = _states[state];
        if (seg == -1)
        {
            if (c == ' ')
            {
                return Enter(0);
            }

            (seg, sub) = (0, 0);
        }

        if (seg >= _segments.Length)
        {
            return Reject;   // complete
        }

        Segment segment = _segments[seg];
        if (segment.Literal is { } literal)
        {
            return literal[sub] != c ? Reject : sub + 1 == literal.Length ? Enter(seg + 1) : Id(seg, sub + 1);
        }

        AnswerGrammar value = segment.Value!;
        int next = value.Next(sub, c);
        if (next != Reject)
        {
            return Id(seg, next);
        }

        // the value is complete and the punctuation after it begins
        string after = _segments[seg + 1].Literal!;
        return value.IsAccepting(sub) && after[0] == c ? (after.Length == 1 ? Enter(seg + 2) : Id(seg + 1, 1)) : Reject;
    }

    public override bool IsAccepting(int state) => (uint)state < (uint)_states.Count && _states[state].Segment == _segments.Length;

    private int Enter(int seg) => Id(seg, seg < _segments.Length && _segments[seg].Value is { } v ? v.Start : 0);

    private int Id(int seg, int sub)
    {
        long key = ((long)seg << 32) | (uint)sub;
        if (!_ids.TryGetValue(key, out int id))
        {
            id = _states.Count;
            _states.Add((seg, sub));
            _ids[key] = id;
        }

        return id;
    }

    private sealed record Segment(string? Literal, AnswerGrammar? Value);
}
