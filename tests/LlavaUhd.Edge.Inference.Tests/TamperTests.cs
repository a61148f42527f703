using System.Text.Json.Nodes;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;
using LlavaUhd.Edge.ModelBuilder.Packaging;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>Tampered packages fail with a message that names the file and the mismatch.</summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class TamperTests
{
    private readonly GeneratedPackages _packages;

    public TamperTests(GeneratedPackages packages) => _packages = packages;

    [Fact]
    public void MissingOnnxFile_NamesTheFile()
    {
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        File.Delete(Path.Combine(dir, "onnx/embed_tokens.onnx"));
        var ex = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir));
        Assert.Equal("onnx/embed_tokens.onnx: missing (model.json lists it)", ex.Message);
    }

    [Fact]
    public void MissingManifest_SaysToImport()
    {
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        File.Delete(Path.Combine(dir, "model.json"));
        var ex = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir));
        Assert.StartsWith("model.json: missing", ex.Message, StringComparison.Ordinal);
        Assert.Contains("models import", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChangedBytes_Sha256Differs()
    {
        string dir = _packages.CopyOf(ModelPreset.TinyMiniCpmV);
        using (FileStream f = File.OpenWrite(Path.Combine(dir, "onnx/resampler.onnx")))
        {
            f.Seek(-1, SeekOrigin.End);
            f.WriteByte(0x42);
        }

        var ex = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir));
        Assert.StartsWith("onnx/resampler.onnx: sha256 differs from model.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TokenizerWithoutImageToken_Fails()
    {
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        string path = Path.Combine(dir, "tokenizer.json");
        JsonNode root = JsonNode.Parse(File.ReadAllText(path))!;
        JsonArray added = root["added_tokens"]!.AsArray();
        added.Remove(added.First(t => (string?)t!["content"] == "<image>"));
        File.WriteAllText(path, root.ToJsonString());
        var ex = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir, verifyHashes: false));
        Assert.Equal("tokenizer.json: has no special token '<image>' (model.json expects id 49190)", ex.Message);

        // Importing such a folder fails too, before anything is written.
        var ex2 = Assert.Throws<ModelPackageException>(() => ModelImporter.Import(dir, ModelVariants.Fp32, new OnnxSessionFactory()));
        Assert.Equal("tokenizer.json: has no special token '<image>', which family 'smolvlm' needs", ex2.Message);
    }

    [Fact]
    public void UnexpectedInputDType_NamesInputAndTypes()
    {
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        // A type the contract forbids fails at load; one it allows (fp16 variants) but the graph lacks fails at open.
        EditManifest(dir, m => m["variants"]!["fp32"]!["sessions"]!["decoder_model_merged"]!["inputs"]!.AsArray()
            .First(t => (string?)t!["name"] == "attention_mask")!["dType"] = "int32");
        var ex = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir));
        Assert.Equal("onnx/decoder_model_merged.onnx: input 'attention_mask' is int32, the contract expects int64", ex.Message);

        EditManifest(dir, m =>
        {
            m["variants"]!["fp32"]!["sessions"]!["decoder_model_merged"]!["inputs"]!.AsArray()
                .First(t => (string?)t!["name"] == "attention_mask")!["dType"] = "int64";
            m["variants"]!["fp32"]!["sessions"]!["vision_encoder"]!["inputs"]!.AsArray()
                .First(t => (string?)t!["name"] == "pixel_values")!["dType"] = "float16";
        });
        ModelPackage package = ModelPackage.Load(dir);
        var ex2 = Assert.Throws<ModelPackageException>(() => package.OpenSessions(new OnnxSessionFactory()).Dispose());
        Assert.Equal("onnx/vision_encoder.onnx: input 'pixel_values' is float32, model.json expects float16", ex2.Message);
    }

    [Fact]
    public void UnexpectedInputName_Fails()
    {
        string dir = _packages.CopyOf(ModelPreset.TinySmolVlm);
        EditManifest(dir, m => m["variants"]!["fp32"]!["sessions"]!["embed_tokens"]!["inputs"]![0]!["name"] = "token_ids");
        var ex = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir));
        Assert.Equal("onnx/embed_tokens.onnx: model.json records input 'token_ids', which the family contract does not have", ex.Message);
    }

    [Fact]
    public void UnknownVariant_ListsWhatIsThere()
    {
        var ex = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(_packages.SmolVlm, ModelVariants.QdqInt8));
        Assert.Equal("model.json: variant 'qdq-int8' is not in the package (it has: fp32)", ex.Message);
    }

    [Fact]
    public void Reimport_GivesTheSameManifest()
    {
        string dir = _packages.CopyOf(ModelPreset.TinyMiniCpmV);
        string before = File.ReadAllText(Path.Combine(dir, "model.json"));
        ModelImporter.Import(dir, ModelVariants.Fp32, new OnnxSessionFactory(), ModelPreset.TinyMiniCpmV);
        Assert.Equal(before, File.ReadAllText(Path.Combine(dir, "model.json")));
    }

    private static void EditManifest(string dir, Action<JsonNode> edit)
    {
        string path = Path.Combine(dir, "model.json");
        JsonNode root = JsonNode.Parse(File.ReadAllText(path))!;
        edit(root);
        File.WriteAllText(path, root.ToJsonString());
    }
}
