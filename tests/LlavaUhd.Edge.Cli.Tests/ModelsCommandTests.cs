namespace LlavaUhd.Edge.Cli.Tests;

/// <summary>The models verbs, end to end through the real CLI.</summary>
public sealed class ModelsCommandTests
{
    [Fact]
    public void Generate_Then_Import_Writes_A_Loadable_Package()
    {
        string dir = Path.Combine(Path.GetTempPath(), "llava-edge-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            (int code, string stdout, string stderr) = CliProcess.Run("", "models", "generate", "--preset", "tiny-minicpmv", "--out", dir, "--seed", "3");
            Assert.True(code == 0, stderr);
            Assert.Contains("tiny-minicpmv (minicpmv)", stdout, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dir, "onnx", "resampler.onnx")));

            (code, stdout, stderr) = CliProcess.Run("", "models", "import", dir, "--variant", "fp32");
            Assert.True(code == 0, stderr);
            Assert.Contains("onnx/resampler.onnx: unknown (not a published file this runtime knows)", stdout, StringComparison.Ordinal);

            File.Delete(Path.Combine(dir, "tokenizer.json"));
            (code, _, stderr) = CliProcess.Run("", "models", "import", dir);
            Assert.Equal(2, code);
            Assert.Contains("tokenizer.json: missing", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Import_AFolderClaimingToBeSmolVlm256MWithOtherWeights_IsRefusedNamingTheFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), "llava-edge-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            (int code, _, string stderr) = CliProcess.Run("", "models", "generate", "--preset", "tiny-smolvlm", "--out", dir);
            Assert.True(code == 0, stderr);
            // The public export's config.json, byte for byte (the generator writes the other eight metadata files unchanged).
            string reference = Path.Combine(AppContext.BaseDirectory, "smolvlm-256m-instruct-config.json");
            File.Copy(reference, Path.Combine(dir, "config.json"), overwrite: true);

            (code, _, stderr) = CliProcess.Run("", "models", "import", dir);
            Assert.Equal(2, code);
            Assert.Contains("HuggingFaceTB/SmolVLM-256M-Instruct", stderr, StringComparison.Ordinal);
            Assert.Contains("download it again", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Tokenize_Json_PrintsTheReferenceIds()
    {
        string dir = Path.Combine(Path.GetTempPath(), "llava-edge-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            (int code, _, string stderr) = CliProcess.Run("", "models", "generate", "--preset", "tiny-smolvlm", "--out", dir);
            Assert.True(code == 0, stderr);
            (code, string stdout, stderr) = CliProcess.Run("", "tokenize", "a  b", "--model", dir, "--json");
            Assert.True(code == 0, stderr);
            Assert.Equal("{\"ids\":[81,216,278]}", stdout.Trim());
            (code, stdout, _) = CliProcess.Run("line1\n\nline2", "tokenize", "-", "--model", dir, "--json");
            Assert.Equal(0, code);
            Assert.Equal("{\"ids\":[1311,33,198,198,1311,34]}", stdout.Trim());
            (code, _, stderr) = CliProcess.Run("", "tokenize", "x", "--model", Path.Combine(dir, "nope"), "--json");
            Assert.Equal(2, code);
            Assert.Contains("tokenizer.json", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
