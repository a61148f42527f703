using System.Collections.Immutable;

namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>
/// Constrained decoding of one typed answer (docs/typed-answers.md): before each token, <see cref="Mask"/> leaves
/// only the tokens whose text keeps the answer valid (and the stop tokens once it is complete); after it,
/// <see cref="Advance"/> follows the chosen token's characters. The mask of each grammar state is built once over
/// the whole vocabulary and kept, so a warm constraint allocates nothing per token.
/// </summary>
/// <remarks>One generation at a time: the cursor (<see cref="Reset"/>) and the grammar's caches are not thread-safe.</remarks>
public sealed class AnswerConstraint
{
    /// <summary>Grammar states whose masks are kept; a type whose answers visit more is answered with masks rebuilt.</summary>
    public const int MaxCachedStates = 4096;

    private readonly AnswerGrammar _grammar;
    private readonly TokenVocabulary _vocabulary;
    private readonly Dictionary<int, StateMask> _masks = [];
    private readonly float[] _stopLogits;
    private int _state;

    public AnswerConstraint(AnswerType type, TokenVocabulary vocabulary, ImmutableArray<int> stopTokenIds)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (stopTokenIds.IsDefaultOrEmpty)
        {
            throw new ArgumentException("A typed answer needs a stop token to end it.", nameof(stopTokenIds));
        }

        Type = type;
        _grammar = AnswerGrammar.For(type);
        _vocabulary = vocabulary;
        StopTokenIds = stopTokenIds;
        _stopLogits = new float[stopTokenIds.Length];
        _state = _grammar.Start;
    }

    public AnswerType Type { get; }

    public ImmutableArray<int> StopTokenIds { get; }

    /// <summary>Tokens enough for the longest valid answer and its stop token.</summary>
    public int MaxTokens => _grammar.MaxLength + 1;

    /// <summary>The text so far is a complete answer.</summary>
    public bool IsComplete => _grammar.IsAccepting(_state);

    /// <summary>The answer is complete and nothing may follow it: generation ends without asking the model again.</summary>
    public bool MustStop => IsComplete && !MaskOf(_state).Any;

    /// <summary>Starts a new answer.</summary>
    public void Reset() => _state = _grammar.Start;

    /// <summary>Sets every logit the answer may not continue with to negative infinity.</summary>
    /// <exception cref="InvalidOperationException">No token can continue the answer (a vocabulary without single-character tokens).</exception>
    public void Mask(Span<float> logits)
    {
        StateMask mask = MaskOf(_state);
        bool complete = _grammar.IsAccepting(_state);
        if (!mask.Any && !complete)
        {
            throw new InvalidOperationException($"No token of the vocabulary continues a {Type.Name} answer here.");
        }

        for (int i = 0; i < StopTokenIds.Length; i++)
        {
            _stopLogits[i] = (uint)StopTokenIds[i] < (uint)logits.Length ? logits[StopTokenIds[i]] : float.NegativeInfinity;
        }

        ulong[] bits = mask.Bits;
        int n = Math.Min(logits.Length, _vocabulary.Size);
        for (int w = 0; w < bits.Length; w++)
        {
            ulong word = bits[w];
            if (word == ulong.MaxValue)
            {
                continue;
            }

            int end = Math.Min(n, (w + 1) * 64);
            for (int i = w * 64; i < end; i++)
            {
                if ((word & (1UL << (i & 63))) == 0)
                {
                    logits[i] = float.NegativeInfinity;
                }
            }
        }

        logits[n..].Fill(float.NegativeInfinity);
        if (complete)
        {
            for (int i = 0; i < StopTokenIds.Length; i++)
            {
                if ((uint)StopTokenIds[i] < (uint)logits.Length)
                {
                    logits[StopTokenIds[i]] = _stopLogits[i];
                }
            }
        }
    }

    /// <summary>Follows <paramref name="token"/>'s characters; false when it does not fit (it was not allowed by <see cref="Mask"/>).</summary>
    public bool Advance(int token)
    {
        int s = Walk(_state, _vocabulary.TextOf(token));
        if (s == AnswerGrammar.Reject)
        {
            return false;
        }

        _state = s;
        return true;
    }

    private int Walk(int state, string? text)
    {
        if (text is null)
        {
            return AnswerGrammar.Reject;
        }

        foreach (char c in text)
        {
            state = _grammar.Next(state, c);
            if (state == AnswerGrammar.Reject)
            {
                break;
            }
        }

        return state;
    }

    private StateMask MaskOf(int state)
    {
        if (_masks.TryGetValue(state, out StateMask? mask))
        {
            return mask;
        }

        var bits = new ulong[(_vocabulary.Size + 63) / 64];
        bool any = false;
        for (char c = (char)0; c < 128; c++)
        {
            if (_grammar.Next(state, c) == AnswerGrammar.Reject)
            {
                continue;
            }

            foreach (int id in _vocabulary.StartingWith(c))
            {
                if (Walk(state, _vocabulary.TextOf(id)) != AnswerGrammar.Reject)
                {
                    bits[id >> 6] |= 1UL << (id & 63);
                    any = true;
                }
            }
        }

        mask = new StateMask(bits, any);
        if (_masks.Count >= MaxCachedStates)
        {
            _masks.Clear();
        }

        _masks[state] = mask;
        return mask;
    }

    private sealed record StateMask(ulong[] Bits, bool Any);
}
