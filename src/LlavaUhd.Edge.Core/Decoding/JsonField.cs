using System.Collections.Immutable;

namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>One field of a <see cref="AnswerKind.Json"/> answer, emitted in declaration order.</summary>
public sealed record JsonField(string Name, JsonFieldKind Kind)
{
    public double? Min { get; init; }

    public double? Max { get; init; }

    public ImmutableArray<string> Options { get; init; } = [];

    public int MaxLength { get; init; } = AnswerType.DefaultStringLength;
}
