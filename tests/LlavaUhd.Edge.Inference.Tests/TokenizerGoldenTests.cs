using System.Text.Json;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Tokenization;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// The real SmolVLM-256M-Instruct <c>tokenizer.json</c> against ids made by the reference consumer (transformers.js,
/// <c>tools/conformance/tokenizer-goldens.mjs</c>): spaces, newlines, digits, accents, scripts, emoji, control
/// characters, special tokens in text and very long inputs.
/// </summary>
public sealed class TokenizerGoldenTests
{
    private static readonly string s_dir = Path.Combine(AppContext.BaseDirectory, "TestData");
    private static readonly Lazy<TokenizerAdapter> s_real = new(() =>
        new TokenizerAdapter(HfTokenizer.Load(Path.Combine(s_dir, "smolvlm-256m-instruct", "tokenizer.json"))));

    public static TheoryData<string, int[]> IssueCases => new()
    {
        { "a  b", [81, 216, 278] },
        { "  x", [216, 1792] },
        { "line1\n\nline2", [1311, 33, 198, 198, 1311, 34] },
    };

    [Theory]
    [MemberData(nameof(IssueCases))]
    public void Encode_RunsOfWhitespace_SplitAsTheReference(string text, int[] expected)
    {
        Assert.Equal(expected, Encode(text));
    }

    [Fact]
    public void Encode_EveryGoldenString_EqualsTheReferenceIds()
    {
        List<(string Text, int[] Ids)> goldens = Read("smolvlm-256m-instruct.jsonl");
        Assert.True(goldens.Count >= 400, $"only {goldens.Count} goldens");
        var failures = new List<string>();
        foreach ((string text, int[] ids) in goldens)
        {
            int[] ours = Encode(text);
            if (!ours.AsSpan().SequenceEqual(ids))
            {
                failures.Add($"{JsonSerializer.Serialize(text)}: expected [{string.Join(',', ids.Take(12))}…] got [{string.Join(',', ours.Take(12))}…]");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {goldens.Count} strings differ:\n{string.Join('\n', failures.Take(20))}");
    }

    [Fact]
    public void Encode_WhereTransformersJsDivergesFromTheRustTokenizer_FollowsTheRustTokenizer()
    {
        // JavaScript's \s includes U+FEFF and excludes U+0085; the Rust tokenizers library (Python transformers) is the
        // other way round. These strings carry the Rust library's ids, derived by its rules (tools/conformance/README.md).
        List<(string Text, int[] Ids)> goldens = Read("smolvlm-256m-instruct_js-divergent.jsonl");
        Assert.NotEmpty(goldens);
        foreach ((string text, int[] ids) in goldens)
        {
            Assert.Equal(ids, Encode(text));
        }
    }

    [Fact]
    public void Encode_ThenDecode_GivesTheTextBack_ExceptBytesTheVocabularyLacks()
    {
        // Some bytes have no symbol in this vocabulary (C0 controls such as 0x04, the lead bytes of planes 2 and up):
        // the reference drops them ("\u0004" → []), so only strings without them can come back whole.
        var failures = new List<string>();
        foreach ((string text, _) in Read("smolvlm-256m-instruct.jsonl").Where(g => !g.Text.Any(c => (c < ' ' && c is not ('\t' or '\n' or '\r')) || c is >= '\uD840' and <= '\uDBFF')))
        {
            string back = s_real.Value.Decode(Encode(text));
            if (back != text)
            {
                failures.Add($"{JsonSerializer.Serialize(text)} → {JsonSerializer.Serialize(back)}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(20)));
    }

    [Fact]
    public void Encode_AstralLetters_AreLettersNotSymbols()
    {
        // U+1D400 MATHEMATICAL BOLD CAPITAL A is a letter and U+1D7D9 MATHEMATICAL DOUBLE-STRUCK DIGIT ONE a number:
        // the word stays one piece and the digit is split off (a UTF-16 regex would see two surrogates, "other").
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(s_dir, "smolvlm-256m-instruct", "tokenizer.json")));
        HfPreTokenizer pre = HfPreTokenizer.Create(doc.RootElement.GetProperty("pre_tokenizer"), []);
        Assert.Equal([(0, 4)], pre.PreTokenize("a\U0001D400b"));
        Assert.Equal([(0, 1), (1, 2), (3, 1)], pre.PreTokenize("a\U0001D7D9b"));
        Assert.Equal([(0, 1), (1, 2), (3, 2)], pre.PreTokenize("a\U0001D7D9\U0001D7D9"));
    }

    [Fact]
    public void Load_UnsupportedPreTokenizerStep_IsASpecificError()
    {
        string dir = Directory.CreateTempSubdirectory("tok").FullName;
        string path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, """
            {"added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"Metaspace","replacement":"▁"},
             "model":{"type":"BPE","vocab":{"a":0},"merges":[]}}
            """);
        var ex = Assert.Throws<ModelPackageException>(() => HfTokenizer.Load(path));
        Assert.Contains("'Metaspace' is not supported", ex.Message, StringComparison.Ordinal);
    }

    private static int[] Encode(string text)
    {
        var ids = new List<int>();
        s_real.Value.Encode(text, ids);
        return [.. ids];
    }

    private static List<(string Text, int[] Ids)> Read(string file)
    {
        var result = new List<(string, int[])>();
        foreach (string line in File.ReadLines(Path.Combine(s_dir, "golden", "tokenizer", file)))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using JsonDocument doc = JsonDocument.Parse(line);
            result.Add((doc.RootElement.GetProperty("text").GetString()!, [.. doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())]));
        }

        return result;
    }
}
