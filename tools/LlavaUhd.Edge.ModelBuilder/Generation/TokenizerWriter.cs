using System.Text.Json.Nodes;
using LlavaUhd.Edge.Inference.Models;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// Writes a small byte-level BPE <c>tokenizer.json</c> in the Hugging Face format (SmolLM2 pre-tokenizer:
/// Digits(individual) + ByteLevel) whose special tokens have the real ids: for smolvlm the SmolVLM-256M ids
/// (<c>&lt;image&gt;</c> 49190, <c>&lt;end_of_utterance&gt;</c> 49279, …); for minicpmv our own small vocabulary.
/// The regular vocabulary is the 256 byte symbols plus a few merges, so ids of ordinary text differ from the real ones.
/// </summary>
public static class TokenizerWriter
{
    private static readonly string[] s_merges = ["Ġ t", "h e", "Ġt he", "i n", "e r", "a n", "Ġ a", "o n", "r e", "Ġ s", "e s", "Ġ i", "o u", "Ġ w"];

    public static Dictionary<string, int> SpecialTokens(ModelPreset p)
    {
        if (p.Family == ModelFamilies.SmolVlm)
        {
            var t = new Dictionary<string, int>(StringComparer.Ordinal)
            {
                ["<|endoftext|>"] = 0, ["<|im_start|>"] = 1, ["<|im_end|>"] = 2,
                ["<global-img>"] = 49152, ["<fake_token_around_image>"] = 49189, ["<image>"] = 49190, ["<end_of_utterance>"] = 49279,
            };
            for (int r = 1; r <= 6; r++)
            {
                for (int c = 1; c <= 6; c++)
                {
                    t[$"<row_{r}_col_{c}>"] = 49153 + ((r - 1) * 6) + (c - 1);
                }
            }

            for (int i = 0; i < 88; i++)
            {
                t[$"<|reserved_special_token_{i}|>"] = 49191 + i;
            }

            return t;
        }

        return new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["<|endoftext|>"] = 0, ["<|im_start|>"] = 1, ["<|im_end|>"] = 2, ["<unk>"] = 3,
            ["<image>"] = 4, ["</image>"] = 5, ["<slice>"] = 6, ["</slice>"] = 7,
        };
    }

    public static void Write(ModelPreset p, string path)
    {
        Dictionary<string, int> specials = SpecialTokens(p);
        int first = p.Family == ModelFamilies.SmolVlm ? 17 : 8;
        var vocab = new JsonObject();
        foreach ((string token, int id) in specials.Where(kv => kv.Value < first))
        {
            vocab[token] = id;
        }

        int next = first;
        foreach (char c in ByteToUnicode())
        {
            vocab[c.ToString()] = next++;
        }

        foreach (string merge in s_merges)
        {
            vocab[merge.Replace(" ", "", StringComparison.Ordinal)] = next++;
        }

        foreach ((string token, int id) in specials.Where(kv => kv.Value >= first).OrderBy(kv => kv.Value))
        {
            vocab[token] = id;
        }

        var added = new JsonArray();
        foreach ((string token, int id) in specials.OrderBy(kv => kv.Value))
        {
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = token, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Digits", ["individual_digits"] = true },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true }),
            },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(s_merges.Select(m => (JsonNode?)JsonValue.Create(m)).ToArray()),
            },
        };
        File.WriteAllText(path, root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>GPT-2's reversible byte → printable character map.</summary>
    public static char[] ByteToUnicode()
    {
        var bs = new List<int>();
        bs.AddRange(Enumerable.Range('!', '~' - '!' + 1));
        bs.AddRange(Enumerable.Range('¡', '¬' - '¡' + 1));
        bs.AddRange(Enumerable.Range('®', 'ÿ' - '®' + 1));
        char[] map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            map[b] = bs.Contains(b) ? (char)b : (char)(256 + n++);
        }

        return map;
    }
}
