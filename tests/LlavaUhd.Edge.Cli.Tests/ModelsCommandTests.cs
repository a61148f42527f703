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
}
