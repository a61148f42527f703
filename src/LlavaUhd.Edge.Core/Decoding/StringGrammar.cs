namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>A short string's characters between its quotes: printable ASCII without <c>"</c> and <c>\</c>, 1..max of them.</summary>
internal sealed class StringGrammar(int maxLength) : AnswerGrammar
{
    public override int Start => 0;

    public override int MaxLength => maxLength;

    public override int Next(int state, char c) =>
        state >= 0 && state < maxLength && c is >= ' ' and <= '~' and not '"' and not '\\' ? state + 1 : Reject;

    public override bool IsAccepting(int state) => state >= 1 && state <= maxLength;
}
