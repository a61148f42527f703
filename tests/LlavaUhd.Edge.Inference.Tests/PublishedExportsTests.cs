using System.Text.Json;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;
using LlavaUhd.Edge.ModelBuilder.Packaging;
using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>
/// Generated packages are complete Hugging Face packages (the nine metadata files of the public export), and
/// <c>models import</c> reads their tokens and template as the reference does and checks files against the
/// published sha256 of SmolVLM-256M-Instruct.
/// </summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class PublishedExportsTests
{
    private static readonly string s_reference = Path.Combine(AppContext.BaseDirectory, "TestData", "smolvlm-256m-instruct");
    private readonly GeneratedPackages _packages;

    public PublishedExportsTests(GeneratedPackages packages) => _packages = packages;

    [Theory]
    [InlineData(ModelPreset.TinySmolVlm)]
    [InlineData(ModelPreset.TinyMiniCpmV)]
    public void Generate_WritesEveryMetadataFileOfThePublicExport(string preset)
    {
        string dir = _packages.Get(preset);
        foreach (string file in ReferenceFiles.SmolVlmFiles)
        {
            Assert.True(File.Exists(Path.Combine(dir, file)), $"{preset} lacks {file}");
        }

        using JsonDocument tc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "tokenizer_config.json")));
        Assert.False(string.IsNullOrEmpty(tc.RootElement.GetProperty("chat_template").GetString()));
        using JsonDocument pc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "processor_config.json")));
        Assert.True(pc.RootElement.GetProperty("image_seq_len").GetInt32() > 0);
        using JsonDocument pp = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "preprocessor_config.json")));
        Assert.False(string.IsNullOrEmpty(pp.RootElement.GetProperty("processor_class").GetString()));
    }

    [Fact]
    public void Generate_SmolVlm_CarriesTheRealTokenizerAndProcessorFilesUnchanged()
    {
        string dir = _packages.SmolVlm;
        foreach (string file in ReferenceFiles.SmolVlmFiles.Where(f => f != "config.json"))
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(s_reference, file)), File.ReadAllBytes(Path.Combine(dir, file)));
        }

        using JsonDocument pp = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "preprocessor_config.json")));
        Assert.Equal("Idefics3Processor", pp.RootElement.GetProperty("processor_class").GetString());
        using JsonDocument pc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "processor_config.json")));
        Assert.Equal(64, pc.RootElement.GetProperty("image_seq_len").GetInt32());
    }

    [Fact]
    public void Import_ReadsNamedTokensAndTheChatTemplateAsTheReference()
    {
        ModelManifest m = ModelPackage.Load(_packages.SmolVlm).Manifest;
        // special_tokens_map.json overrides tokenizer_config.json (eos: <|im_end|>, not <end_of_utterance>).
        Assert.Equal("<|im_start|>", m.Tokens.Named!["bos_token"]);
        Assert.Equal("<|im_end|>", m.Tokens.Named["eos_token"]);
        Assert.Equal("<|im_end|>", m.Tokens.Named["pad_token"]);
        Assert.Equal("<|endoftext|>", m.Tokens.Named["unk_token"]);
        Assert.Equal(["<fake_token_around_image>", "<image>", "<end_of_utterance>"], m.Tokens.Additional);
        using JsonDocument ct = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(s_reference, "chat_template.json")));
        Assert.Equal(ct.RootElement.GetProperty("chat_template").GetString(), m.ChatTemplate);
        Assert.Contains(49279, m.Generation.EosTokenIds);
    }

    [Fact]
    public void Import_GeneratedPackage_ItsOnnxFilesAreUnknown()
    {
        ModelManifest m = ModelPackage.Load(_packages.SmolVlm).Manifest;
        Assert.NotNull(m.Provenance);
        Assert.Equal(3, m.Provenance!.Count);
        Assert.All(m.Provenance.Values, Assert.Null);
    }

    [Fact]
    public void Import_KnownExportWithADifferentFileUnderAPublishedName_IsRefused()
    {
        // config.json byte-identical to SmolVLM-256M-Instruct's: the package claims to be that export, so its
        // onnx/vision_encoder.onnx must be the published one (374 316 497 bytes); the generated one is not.
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        File.Copy(Path.Combine(s_reference, "config.json"), Path.Combine(dir, "config.json"), overwrite: true);
        Assert.Equal("HuggingFaceTB/SmolVLM-256M-Instruct", PublishedExports.Embedded.ExportOf(dir));

        var ex = Assert.Throws<ModelPackageException>(() => ModelImporter.Import(dir, ModelVariants.Fp32, Factory()));
        Assert.Contains("onnx/decoder_model_merged.onnx", ex.Message, StringComparison.Ordinal);
        Assert.Contains("HuggingFaceTB/SmolVLM-256M-Instruct", ex.Message, StringComparison.Ordinal);
        Assert.Contains("download it again", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_KnownExportWithADamagedTokenizer_IsRefused()
    {
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        File.Copy(Path.Combine(s_reference, "config.json"), Path.Combine(dir, "config.json"), overwrite: true);
        File.AppendAllText(Path.Combine(dir, "tokenizer.json"), " ");
        var exports = PublishedExports.From(PublishedExports.Embedded.Files.Where(f => !f.Path.StartsWith("onnx/", StringComparison.Ordinal)));

        var ex = Assert.Throws<ModelPackageException>(() => exports.Identify(dir));
        Assert.Contains("'tokenizer.json'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_FilesByContent_NamesThePublishedFileOrUnknown()
    {
        // A registry that publishes this generated package's files (sizes and hashes taken from it): each file is
        // recognised by content; a file under a published name whose bytes differ is refused.
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        string vision = Path.Combine(dir, "onnx", "vision_encoder.onnx");
        string decoder = Path.Combine(dir, "onnx", "decoder_model_merged.onnx");
        var published = new List<PublishedFile>
        {
            new("acme/parcels", "config.json", new FileInfo(Path.Combine(dir, "config.json")).Length, ModelPackage.Sha256Of(Path.Combine(dir, "config.json"))),
            new("acme/parcels", "onnx/vision_encoder.onnx", new FileInfo(vision).Length, ModelPackage.Sha256Of(vision)),
            new("acme/parcels", "onnx/decoder_model_merged.onnx", new FileInfo(decoder).Length, ModelPackage.Sha256Of(decoder)),
        };
        var exports = PublishedExports.From(published);

        SortedDictionary<string, string?> found = exports.Identify(dir);
        Assert.Equal("acme/parcels onnx/vision_encoder.onnx", found["onnx/vision_encoder.onnx"]);
        Assert.Equal("acme/parcels onnx/decoder_model_merged.onnx", found["onnx/decoder_model_merged.onnx"]);
        Assert.Null(found["onnx/embed_tokens.onnx"]);

        byte[] bytes = File.ReadAllBytes(decoder);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(decoder, bytes);
        var ex = Assert.Throws<ModelPackageException>(() => exports.Identify(dir));
        Assert.Contains("onnx/decoder_model_merged.onnx", ex.Message, StringComparison.Ordinal);
        Assert.Contains(published[2].Sha256, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Embedded_ListsEveryPublishedFileOfSmolVlm256M()
    {
        var files = PublishedExports.Embedded.Files.Where(f => f.Repository == "HuggingFaceTB/SmolVLM-256M-Instruct").ToList();
        Assert.Contains(files, f => f.Path == "onnx/decoder_model_merged_int8.onnx" && f.Bytes == 137221530);
        Assert.Contains(files, f => f.Path == "tokenizer.json" && f.Sha256 == ModelPackage.Sha256Of(Path.Combine(s_reference, "tokenizer.json")));
        Assert.Equal(files.Count, files.Select(f => f.Path).Distinct().Count());
    }

    private static OnnxSessionFactory Factory() =>
        new(new OnnxSessionOptions { OptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpThreads = 1 });
}
