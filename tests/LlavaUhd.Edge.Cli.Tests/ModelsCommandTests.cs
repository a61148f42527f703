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
    public void Generate_FromATrainedWeightsFolder_BuildsItsPackage_AndRefusesOtherBytes()
    {
        string repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "LlavaUhd.Edge.sln")))
        {
            repo = Path.GetDirectoryName(repo) ?? throw new DirectoryNotFoundException("the repository root (LlavaUhd.Edge.sln)");
        }

        string root = Path.Combine(Path.GetTempPath(), "llava-edge-cli-" + Guid.NewGuid().ToString("N"));
        string weights = Path.Combine(root, "my-model");
        string dir = Path.Combine(root, "pkg");
        try
        {
            Directory.CreateDirectory(weights);
            foreach (string f in new[] { "weights.json", "weights.bin", "weights.sha256" })
            {
                File.Copy(Path.Combine(repo, "models-quantized", "demo-smolvlm", f), Path.Combine(weights, f));
            }

            (int code, string stdout, string stderr) = CliProcess.Run("", "models", "generate", "--weights", weights, "--out", dir);
            Assert.True(code == 0, stderr);
            Assert.Contains("my-model (smolvlm)", stdout, StringComparison.Ordinal);
            string sha = File.ReadAllText(Path.Combine(weights, "weights.sha256")).Trim();
            Assert.Contains($"trained weights, sha256 {sha}", File.ReadAllText(Path.Combine(dir, "config.json")), StringComparison.Ordinal);

            File.WriteAllText(Path.Combine(weights, "weights.sha256"), new string('0', 64) + "\n");
            (code, _, stderr) = CliProcess.Run("", "models", "generate", "--weights", weights, "--out", Path.Combine(root, "pkg2"));
            Assert.Equal(2, code);
            Assert.Contains("damaged", stderr, StringComparison.Ordinal);

            (code, _, stderr) = CliProcess.Run("", "models", "generate", "--weights", weights, "--preset", "tiny-smolvlm", "--out", Path.Combine(root, "pkg3"));
            Assert.NotEqual(0, code);
            Assert.Contains("exactly one of --preset and --weights", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
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
