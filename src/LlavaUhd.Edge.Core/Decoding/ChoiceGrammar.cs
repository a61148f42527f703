namespace LlavaUhd.Edge.Core.Decoding;

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
