using System.Text.Json;
using System.Text.RegularExpressions;
using LlavaUhd.Edge.Inference.Errors;
using Microsoft.ML.Tokenizers;

namespace LlavaUhd.Edge.Inference.Tokenization;

/// <summary>
/// Loads a Hugging Face <c>tokenizer.json</c> (byte-level BPE: GPT-2, SmolLM2/SmolVLM, Qwen2 styles) into a
/// Microsoft.ML.Tokenizers <see cref="BpeTokenizer"/>. Added tokens are passed both to the model and to every
/// pre-tokenizer so that <c>&lt;image&gt;</c> stays one token (DEPENDENCIES.md §2).
/// </summary>
public sealed class HfTokenizer
{
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private HfTokenizer(Tokenizer tokenizer, IReadOnlyDictionary<string, int> addedTokens, int vocabEntries)
    {
        Tokenizer = tokenizer;
        AddedTokens = addedTokens;
        VocabEntries = vocabEntries;
    }

    public Tokenizer Tokenizer { get; }

    /// <summary>The <c>added_tokens</c> of the file (special tokens) by content.</summary>
    public IReadOnlyDictionary<string, int> AddedTokens { get; }

    /// <summary>Entries in the BPE vocabulary (without added tokens).</summary>
    public int VocabEntries { get; }

    /// <summary>Reads the added tokens only (cheap; used by validation).</summary>
    public static Dictionary<string, int> ReadAddedTokens(string path)
    {
        using JsonDocument doc = Parse(path);
        return AddedTokensOf(doc.RootElement, path);
    }

    public static HfTokenizer Load(string path)
    {
        using JsonDocument doc = Parse(path);
        JsonElement root = doc.RootElement;
        string name = Path.GetFileName(path);
        if (!root.TryGetProperty("model", out JsonElement model) || model.GetProperty("type").GetString() != "BPE")
        {
            throw new ModelPackageException(name, "only byte-level BPE tokenizers are supported (model.type must be 'BPE')");
        }

        var vocab = model.GetProperty("vocab").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetInt32())).ToList();
        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : m[0].GetString() + " " + m[1].GetString())
            .ToList();
        Dictionary<string, int> specials = AddedTokensOf(root, name);
        PreTokenizer pre = BuildPreTokenizer(root, specials);
        bool nfc = root.TryGetProperty("normalizer", out JsonElement norm) && norm.ValueKind == JsonValueKind.Object
            && norm.TryGetProperty("type", out JsonElement nt) && nt.GetString() == "NFC";
        Tokenizer tokenizer = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            SpecialTokens = specials,
            ByteLevel = true,
            PreTokenizer = pre,
            Normalizer = nfc ? new NfcNormalizer() : null,
        });
        return new HfTokenizer(tokenizer, specials, vocab.Count);
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException ex)
        {
            throw new ModelPackageException(Path.GetFileName(path), $"not valid JSON: {ex.Message}", ex);
        }
    }

    private static Dictionary<string, int> AddedTokensOf(JsonElement root, string file)
    {
        if (!root.TryGetProperty("added_tokens", out JsonElement added) || added.ValueKind != JsonValueKind.Array)
        {
            throw new ModelPackageException(Path.GetFileName(file), "has no 'added_tokens' array");
        }

        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonElement t in added.EnumerateArray())
        {
            result[t.GetProperty("content").GetString()!] = t.GetProperty("id").GetInt32();
        }

        return result;
    }

    private static PreTokenizer BuildPreTokenizer(JsonElement root, Dictionary<string, int> specials)
    {
        var regexes = new List<Regex>();
        if (root.TryGetProperty("pre_tokenizer", out JsonElement pre) && pre.ValueKind == JsonValueKind.Object)
        {
            IEnumerable<JsonElement> parts = pre.GetProperty("type").GetString() == "Sequence"
                ? pre.GetProperty("pretokenizers").EnumerateArray()
                : [pre];
            foreach (JsonElement p in parts)
            {
                switch (p.GetProperty("type").GetString())
                {
                    case "Digits":
                        regexes.Add(new Regex(
                            p.TryGetProperty("individual_digits", out JsonElement ind) && ind.GetBoolean() ? @"\p{N}|[^\p{N}]+" : @"\p{N}+|[^\p{N}]+",
                            RegexOptions.Compiled));
                        break;
                    case "Split":
                        regexes.Add(new Regex(p.GetProperty("pattern").GetProperty("Regex").GetString()!, RegexOptions.Compiled));
                        break;
                    case "ByteLevel":
                        if (!p.TryGetProperty("use_regex", out JsonElement useRegex) || useRegex.GetBoolean())
                        {
                            regexes.Add(new Regex(Gpt2Pattern, RegexOptions.Compiled));
                        }

                        break;
                    default:
                        break;
                }
            }
        }

        if (regexes.Count == 0)
        {
            regexes.Add(new Regex(Gpt2Pattern, RegexOptions.Compiled));
        }

        return regexes.Count == 1
            ? new RegexPreTokenizer(regexes[0], specials)
            : new CompositePreTokenizer(regexes.Select(r => (PreTokenizer)new RegexPreTokenizer(r, specials)).ToList(), specials);
    }

    private sealed class NfcNormalizer : Normalizer
    {
        public override string Normalize(string original) => original.Normalize(System.Text.NormalizationForm.FormC);

        public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(System.Text.NormalizationForm.FormC);
    }
}
