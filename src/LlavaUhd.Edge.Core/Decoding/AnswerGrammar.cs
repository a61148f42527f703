using System.Collections.Immutable;

namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>
/// A character-level acceptor of the text a typed answer may be (docs/typed-answers.md): from <see cref="Start"/>,
/// <see cref="Next"/> follows one character or rejects it, and <see cref="IsAccepting"/> says whether the text so far
/// is complete. Every state it hands out can still be completed, so a decoder that only follows accepted characters
/// always ends with valid text. States are small integers, created on first use and kept; not thread-safe.
/// </summary>
public abstract class AnswerGrammar
{
    /// <summary>The state <see cref="Next"/> returns for a character that is not allowed.</summary>
    public const int Reject = -1;

    public abstract int Start { get; }

    /// <summary>The longest valid text, in characters (a token has at least one, so this bounds the tokens too).</summary>
    public abstract int MaxLength { get; }

    /// <summary>The state after <paramref name="c"/>, or <see cref="Reject"/>.</summary>
    public abstract int Next(int state, char c);

    public abstract bool IsAccepting(int state);

    /// <summary>The grammar of <paramref name="type"/>: answers may start with one space, as the model's words do.</summary>
    public static AnswerGrammar For(AnswerType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.Kind switch
        {
            AnswerKind.YesNo or AnswerKind.Choice => new ChoiceGrammar(type.Options, ignoreCase: true, leadingSpace: true),
            AnswerKind.Number => new NumberGrammar(type.Min, type.Max, type.Integer, leadingSpace: true),
            _ => new JsonObjectGrammar(type.Fields),
        };
    }

    /// <summary>True when <paramref name="text"/> is a complete, valid text of this grammar.</summary>
    public bool Accepts(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int s = Start;
        foreach (char c in text)
        {
            s = Next(s, c);
            if (s == Reject)
            {
                return false;
            }
        }

        return IsAccepting(s);
    }
}

/// <summary>One of a fixed set of strings: a trie. With <c>leadingSpace</c> a single space may come first.</summary>
internal sealed class ChoiceGrammar : AnswerGrammar
{
    private readonly List<Dictionary<char, int>> _children = [[]];
    private readonly List<bool> _accepting = [false];
    private readonly bool _ignoreCase;
    private readonly int _start;

    public ChoiceGrammar(IEnumerable<string> options, bool ignoreCase, bool leadingSpace)
    {
        _ignoreCase = ignoreCase;
        int longest = 0;
        foreach (string option in options)
        {
            int node = 0;
            foreach (char ch in option)
            {
                char c = Fold(ch);
                if (!_children[node].TryGetValue(c, out int child))
                {
                    child = _children.Count;
                    _children.Add([]);
                    _accepting.Add(false);
                    _children[node][c] = child;
                }

                node = child;
            }

            _accepting[node] = true;
            longest = Math.Max(longest, option.Length);
        }

        // the state before an optional leading space is one past the trie's nodes
        _start = leadingSpace ? _children.Count : 0;
        MaxLength = longest + (leadingSpace ? 1 : 0);
    }

    public override int Start => _start;

    public override int MaxLength { get; }

    public override int Next(int state, char c)
    {
        if (state == _children.Count)
        {
            if (c == ' ')
            {
                return 0;
            }

            state = 0;
        }

        return (uint)state < (uint)_children.Count && _children[state].TryGetValue(Fold(c), out int next) ? next : Reject;
    }

    public override bool IsAccepting(int state) => (uint)state < (uint)_accepting.Count && _accepting[state];

    private char Fold(char c) => _ignoreCase && char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
}

/// <summary>
/// A decimal number: <c>-?(0|[1-9][0-9]*)(\.[0-9]+)?</c> with at most <see cref="AnswerType.MaxIntegerDigits"/> and
/// <see cref="AnswerType.MaxFractionDigits"/> digits, no fraction when integer, within [min, max]. A prefix is only
/// accepted when some completion of it lies in the range, so the bounds hold by construction.
/// </summary>
internal sealed class NumberGrammar : AnswerGrammar
{
    private const byte PhaseStart = 0;
    private const byte PhaseSpaced = 1;
    private const byte PhaseMinus = 2;
    private const byte PhaseInt = 3;
    private const byte PhaseDot = 4;
    private const byte PhaseFrac = 5;

    private static readonly decimal s_fracMax = 1m - Pow10Neg(AnswerType.MaxFractionDigits);

    private readonly Dictionary<NumberState, int> _ids = [];
    private readonly List<NumberState> _states = [];
    private readonly decimal _lo;
    private readonly decimal _hi;
    private readonly bool _integer;
    private readonly int _intDigits;
    private readonly int _start;

    public NumberGrammar(double? min, double? max, bool integer, bool leadingSpace)
    {
        const decimal limit = 999_999_999_999_999m;
        _lo = min is { } a ? (decimal)a : -limit;
        _hi = max is { } b ? (decimal)b : limit;
        _integer = integer;
        decimal magnitude = Math.Max(Math.Abs(_lo), Math.Abs(_hi));
        _intDigits = Math.Clamp(decimal.Truncate(magnitude).ToString(System.Globalization.CultureInfo.InvariantCulture).Length, 1, AnswerType.MaxIntegerDigits);
        _start = Intern(new NumberState(leadingSpace ? PhaseStart : PhaseSpaced, false, 0, 0, 0, 0));
        MaxLength = (leadingSpace ? 1 : 0) + (_lo < 0 ? 1 : 0) + _intDigits + (integer ? 0 : 1 + AnswerType.MaxFractionDigits);
    }

    public override int Start => _start;

    public override int MaxLength { get; }

    public override int Next(int state, char c)
    {
        if ((uint)state >= (uint)_states.Count)
        {
            return Reject;
        }

        NumberState s = _states[state];
        NumberState? n = s.Phase switch
        {
            PhaseStart when c == ' ' => s with { Phase = PhaseSpaced },
            PhaseStart or PhaseSpaced when c == '-' => s with { Phase = PhaseMinus, Negative = true },
            PhaseStart or PhaseSpaced or PhaseMinus when char.IsAsciiDigit(c) => s with { Phase = PhaseInt, IntPart = c - '0', IntDigits = 1 },
            PhaseInt when char.IsAsciiDigit(c) && s.IntPart != 0 && s.IntDigits < _intDigits => s with { IntPart = (s.IntPart * 10) + (c - '0'), IntDigits = s.IntDigits + 1 },
            PhaseInt when c == '.' && !_integer => s with { Phase = PhaseDot },
            PhaseDot when char.IsAsciiDigit(c) => s with { Phase = PhaseFrac, FracPart = c - '0', FracDigits = 1 },
            PhaseFrac when char.IsAsciiDigit(c) && s.FracDigits < AnswerType.MaxFractionDigits => s with { FracPart = (s.FracPart * 10) + (c - '0'), FracDigits = s.FracDigits + 1 },
            _ => null,
        };
        if (n is not { } next || !Feasible(next))
        {
            return Reject;
        }

        return _ids.TryGetValue(next, out int id) ? id : Intern(next);
    }

    public override bool IsAccepting(int state)
    {
        if ((uint)state >= (uint)_states.Count)
        {
            return false;
        }

        NumberState s = _states[state];
        if (s.Phase is not (PhaseInt or PhaseFrac))
        {
            return false;
        }

        decimal magnitude = s.IntPart + (s.FracPart * Pow10Neg(s.FracDigits));
        decimal value = s.Negative ? -magnitude : magnitude;
        return !(s.Negative && magnitude == 0) && value >= _lo && value <= _hi;
    }

    private int Intern(NumberState s)
    {
        int id = _states.Count;
        _states.Add(s);
        _ids[s] = id;
        return id;
    }

    /// <summary>Whether a completion of <paramref name="s"/> lies in [lo, hi]: the reachable values are a union of intervals.</summary>
    private bool Feasible(NumberState s)
    {
        decimal frac = _integer ? 0m : s_fracMax;
        switch (s.Phase)
        {
            case PhaseStart or PhaseSpaced:
                return Overlaps(false, 0m, Pow10(_intDigits) - 1 + frac) || Overlaps(true, 0m, Pow10(_intDigits) - 1 + frac, excludeZero: true);
            case PhaseMinus:
                return Overlaps(true, 0m, Pow10(_intDigits) - 1 + frac, excludeZero: true);
            case PhaseInt:
                for (int k = 0; k <= (s.IntPart == 0 ? 0 : _intDigits - s.IntDigits); k++)
                {
                    decimal low = s.IntPart * Pow10(k);
                    if (Overlaps(s.Negative, low, low + Pow10(k) - 1 + frac, excludeZero: s.Negative))
                    {
                        return true;
                    }
                }

                return false;
            case PhaseDot:
                return Overlaps(s.Negative, s.IntPart, s.IntPart + s_fracMax, excludeZero: s.Negative, fraction: true);
            default:
                decimal step = Pow10Neg(s.FracDigits);
                decimal from = s.IntPart + (s.FracPart * step);
                return Overlaps(s.Negative, from, from + step - Pow10Neg(AnswerType.MaxFractionDigits), excludeZero: s.Negative, fraction: true);
        }
    }

    /// <summary>
    /// Whether a value of magnitude in [<paramref name="low"/>, <paramref name="high"/>] with the given sign lies in
    /// [lo, hi]; for integers only whole values count, for fractions values on the fraction grid.
    /// </summary>
    private bool Overlaps(bool negative, decimal low, decimal high, bool excludeZero = false, bool fraction = false)
    {
        decimal a = negative ? -high : low;
        decimal b = negative ? -low : high;
        a = Math.Max(a, _lo);
        b = Math.Min(b, _hi);
        if (excludeZero && b >= 0)
        {
            // "-0" is not a number we write; the smallest negative magnitude is one step of the grid
            b = -(_integer && !fraction ? 1m : Pow10Neg(AnswerType.MaxFractionDigits));
        }

        if (_integer && !fraction)
        {
            return Math.Ceiling(a) <= Math.Floor(b);
        }

        decimal grid = Pow10Neg(AnswerType.MaxFractionDigits);
        return Math.Ceiling(a / grid) <= Math.Floor(b / grid);
    }

    private static decimal Pow10(int n)
    {
        decimal r = 1m;
        for (int i = 0; i < n; i++)
        {
            r *= 10m;
        }

        return r;
    }

    private static decimal Pow10Neg(int n) => 1m / Pow10(n);

    private readonly record struct NumberState(byte Phase, bool Negative, long IntPart, int IntDigits, long FracPart, int FracDigits);
}

/// <summary>A short string's characters between its quotes: printable ASCII without <c>"</c> and <c>\</c>, 1..max of them.</summary>
internal sealed class StringGrammar(int maxLength) : AnswerGrammar
{
    public override int Start => 0;

    public override int MaxLength => maxLength;

    public override int Next(int state, char c) =>
        state >= 0 && state < maxLength && c is >= ' ' and <= '~' and not '"' and not '\\' ? state + 1 : Reject;

    public override bool IsAccepting(int state) => state >= 1 && state <= maxLength;
}

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
