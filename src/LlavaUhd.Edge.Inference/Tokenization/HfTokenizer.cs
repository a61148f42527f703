using System.Text.Json;
using LlavaUhd.Edge.Inference.Errors;
using Microsoft.ML.Tokenizers;

namespace LlavaUhd.Edge.Inference.Tokenization;

/// <summary>
/// Loads a Hugging Face <c>tokenizer.json</c> (byte-level BPE: GPT-2, SmolLM2/SmolVLM, Qwen2 styles) into a
/// Microsoft.ML.Tokenizers <see cref="BpeTokenizer"/> whose pre-tokenizer is <see cref="HfPreTokenizer"/>: added
/// tokens are cut out first so that <c>&lt;image&gt;</c> stays one token, then the file's pre-tokenizer steps split
/// the rest exactly as the reference library does (docs/tokenizer.md).
/// </summary>
public sealed class HfTokenizer
{
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
        PreTokenizer pre;
        try
        {
            pre = HfPreTokenizer.Create(root.TryGetProperty("pre_tokenizer", out JsonElement p) ? p : null, specials.Keys);
        }
        catch (NotSupportedException ex)
        {
            throw new ModelPackageException(name, ex.Message, ex);
        }

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

    private sealed class NfcNormalizer : Normalizer
    {
        public override string Normalize(string original) => original.Normalize(System.Text.NormalizationForm.FormC);

        public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(System.Text.NormalizationForm.FormC);
    }
}
