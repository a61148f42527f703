using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Schema;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tests;

public sealed class PromptAssemblerTests
{
    /// <summary>A character-level tokenizer with SmolVLM's special-token ids: each special is one id, every other char its code.</summary>
    private sealed class CharTokenizer : ITextTokenizer
    {
        private static readonly Dictionary<string, int> s_specials = new()
        {
            ["<|im_start|>"] = 1,
            ["<global-img>"] = 49152,
            ["<fake_token_around_image>"] = 49189,
            ["<image>"] = 49190,
            ["<end_of_utterance>"] = 49279,
        };

        public void Encode(string text, List<int> ids)
        {
            int i = 0;
            while (i < text.Length)
            {
                string? special = s_specials.Keys.FirstOrDefault(k => string.CompareOrdinal(text, i, k, 0, k.Length) == 0)
                    ?? RowCol(text, i);
                if (special is not null)
                {
                    ids.Add(TokenToId(special)!.Value);
                    i += special.Length;
                }
                else
                {
                    ids.Add(text[i++]);
                }
            }
        }

        public int? TokenToId(string token)
        {
            if (s_specials.TryGetValue(token, out int id))
            {
                return id;
            }

            return token.StartsWith("<row_", StringComparison.Ordinal) ? 49153 + ((token[5] - '1') * 6) + (token[11] - '1') : null;
        }

        private static string? RowCol(string text, int i) =>
            string.CompareOrdinal(text, i, "<row_", 0, 5) == 0 ? text.Substring(i, 13) : null;
    }

    [Fact]
    public void SmolVlm_PlaceholdersSitWhereTheLayoutPutsThem()
    {
        SlicePlan plan = SlicePlanner.Plan(4096, 1025, SlicingOptions.For(SliceScheme.Idefics3));
        PromptLayout layout = SpatialSchema.Build(plan);
        var tokenizer = new CharTokenizer();

        AssembledPrompt prompt = PromptAssembler.Assemble(PromptTemplate.SmolVlm, layout, "Is it ok?", tokenizer, 49190);

        Assert.Equal(5 * 64, prompt.VisualTokenCount);
        Assert.Equal(5, prompt.Spans.Length);
        Assert.Equal([0, 1, 2, 3, 4], prompt.Spans.Select(s => s.View));
        // <|im_start|> U s e r : <fake> <row_1_col_1> then 64 <image>.
        Assert.Equal(8, prompt.Spans[0].Start);
        Assert.Equal(49153, prompt.Ids[7]);
        Assert.Equal(5 * 64, prompt.Ids.Count(id => id == 49190));
        foreach (VisualSpan span in prompt.Spans)
        {
            Assert.All(Enumerable.Range(span.Start, span.Count), p => Assert.Equal(49190, prompt.Ids[p]));
        }

        var expected = new List<int>();
        tokenizer.Encode("<|im_start|>User:" + layout.ToString() + "Is it ok?<end_of_utterance>\nAssistant:", expected);
        Assert.Equal(expected, prompt.Ids);
    }

    [Fact]
    public void QuestionWithReservedToken_IsRejected()
    {
        SlicePlan plan = SlicePlanner.Plan(100, 100, SlicingOptions.For(SliceScheme.Idefics3));

        var ex = Assert.Throws<PromptException>(() => PromptAssembler.Assemble(PromptTemplate.SmolVlm, SpatialSchema.Build(plan), "what <image> is", new CharTokenizer(), 49190));

        Assert.Contains("reserved model token", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TextOnly_HasNoSpans()
    {
        AssembledPrompt prompt = PromptAssembler.Assemble(PromptTemplate.SmolVlm, null, "hi", new CharTokenizer(), 49190);

        Assert.Empty(prompt.Spans);
        Assert.Equal(1, prompt.Ids[0]);
    }

    [Theory]
    [InlineData("no markers")]
    [InlineData("{question}{question}")]
    [InlineData("{image}{image}{question}")]
    public void MalformedTemplate_IsRejected(string text)
    {
        Assert.Throws<PromptException>(() => new PromptTemplate(text));
    }

    [Fact]
    public void PrunedCounts_ChangeThePlaceholderRuns()
    {
        SlicePlan plan = SlicePlanner.Plan(640, 480, SlicingOptions.For(SliceScheme.MiniCpmV));
        PromptLayout layout = SpatialSchema.Build(plan, SchemaLayout.MiniCpmV26, tokensPerView: [64, 10, 20]);

        Assert.Equal(94, layout.PlaceholderCount);
    }
}
