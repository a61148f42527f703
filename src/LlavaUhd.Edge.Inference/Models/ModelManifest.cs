using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlavaUhd.Edge.Inference.Models;

/// <summary>
/// <c>model.json</c>: what the runtime needs to know about a package besides the public files. Written by
/// <c>models import</c> (and by the generator, which imports its own output); read and checked by <see cref="ModelPackage"/>.
/// </summary>
public sealed class ModelManifest
{
    public const string FileName = "model.json";

    /// <summary>Version of this file's format.</summary>
    public int Format { get; init; } = 1;

    /// <summary>A name of <see cref="ModelFamilies"/> (the type that knows the family: <see cref="Families.ModelFamily.Get"/>).</summary>
    public required string Family { get; init; }

    /// <summary>A free-form name (the repository id or generator preset).</summary>
    public string Name { get; init; } = "";

    /// <summary>The variant loaded when none is asked for.</summary>
    public required string DefaultVariant { get; init; }

    public required ManifestSlicing Slicing { get; init; }

    public required ManifestDimensions Dimensions { get; init; }

    public required ManifestTokens Tokens { get; init; }

    public string ChatTemplate { get; init; } = "";

    public required ManifestGeneration Generation { get; init; }

    /// <summary>Non-ONNX files of the package (tokenizer and configs) and their sha256 (lower-case hex).</summary>
    public required IReadOnlyDictionary<string, string> Files { get; init; }

    /// <summary>Each imported variant with its sessions.</summary>
    public required IReadOnlyDictionary<string, ManifestVariant> Variants { get; init; }

    /// <summary>
    /// Which published file each ONNX file of the package is (<c>"onnx/x.onnx": "HuggingFaceTB/SmolVLM-256M-Instruct
    /// onnx/x.onnx"</c>), or null for a file no known export publishes (generated, fine-tuned or converted elsewhere).
    /// </summary>
    public IReadOnlyDictionary<string, string?>? Provenance { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static ModelManifest Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), JsonOptions)
                ?? throw new JsonException("the file holds 'null'");
        }
        catch (JsonException ex)
        {
            throw new Errors.ModelPackageException(FileName, $"not a valid manifest: {ex.Message}", ex);
        }
    }

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions) + "\n");

    /// <summary>A copy with <paramref name="variant"/> added or replaced; with <paramref name="makeDefault"/> it becomes the package's default variant.</summary>
    public ModelManifest WithVariant(string name, ManifestVariant variant, bool makeDefault = false)
    {
        var variants = new SortedDictionary<string, ManifestVariant>(Variants.ToDictionary(), StringComparer.Ordinal) { [name] = variant };
        return new ModelManifest
        {
            Format = Format,
            Family = Family,
            Name = Name,
            DefaultVariant = makeDefault ? name : DefaultVariant,
            Slicing = Slicing,
            Dimensions = Dimensions,
            Tokens = Tokens,
            ChatTemplate = ChatTemplate,
            Generation = Generation,
            Files = Files,
            Variants = variants,
            Provenance = Provenance,
        };
    }
}
