namespace LlavaUhd.Edge.Core.Decoding;

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
