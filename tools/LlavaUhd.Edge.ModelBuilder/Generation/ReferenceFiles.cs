using System.Reflection;
using System.Text.Json.Nodes;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// The real SmolVLM-256M-Instruct metadata files (tokenizer, configs, chat template; no weights) embedded in this
/// assembly from <c>models-quantized/smolvlm-256m-instruct/</c>.
/// </summary>
public static class ReferenceFiles
{
    /// <summary>The files of the public export that are not weights, in the order a package lists them.</summary>
    public static IReadOnlyList<string> SmolVlmFiles { get; } =
    [
        "config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json", "tokenizer.json",
        "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "chat_template.json",
    ];

    /// <summary>The bytes of one embedded file, e.g. <c>tokenizer.json</c>.</summary>
    public static byte[] SmolVlm(string file)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"smolvlm-256m-instruct/{file}")
            ?? throw new FileNotFoundException($"'{file}' is not an embedded SmolVLM-256M-Instruct reference file");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>One embedded JSON file, parsed.</summary>
    public static JsonObject SmolVlmJson(string file) => JsonNode.Parse(SmolVlm(file))!.AsObject();
}
