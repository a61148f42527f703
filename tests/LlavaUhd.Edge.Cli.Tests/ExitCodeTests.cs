namespace LlavaUhd.Edge.Cli.Tests;

/// <summary>The README's exit codes for every verb: bad arguments and outputs that cannot be written exit 2 with one line, never a stack trace.</summary>
public sealed class ExitCodeTests
{
    public static TheoryData<string[]> BadArguments => new()
    {
        { ["plan", "--bogus"] },
        { ["slices"] },
        { ["sample", "--size", "640x360"] },
        { ["ask"] },
        { ["eval"] },
        { ["tokenize"] },
        { ["bench", "decode", "--tokens", "lots"] },
        { ["nosuchverb"] },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void BadArguments_Exit2_WithoutAStackTrace(string[] args)
    {
        (int code, _, string stderr) = CliProcess.Run(string.Empty, args);
        Assert.True(code == 2, $"{string.Join(' ', args)} → {code}: {stderr}");
        Assert.False(string.IsNullOrWhiteSpace(stderr));
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void OutputsThatCannotBeWritten_Exit2_NamingTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("exit").FullName;
        string image = Path.Combine(dir, "frame.png");
        Assert.Equal(0, CliProcess.Run(string.Empty, "sample", "--out", image, "--size", "640x360").ExitCode);

        (int code, _, string stderr) = CliProcess.Run(string.Empty, "slices", image, "--scheme", "minicpmv", "--out", Path.Combine(dir, "overlay.xyz"));
        Assert.Equal(2, code);
        Assert.Contains("overlay.xyz", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);

        string blocker = Path.Combine(dir, "file");
        File.WriteAllText(blocker, "not a folder");
        (code, _, stderr) = CliProcess.Run(string.Empty, "slices", image, "--scheme", "minicpmv", "--out", Path.Combine(blocker, "overlay.png"));
        Assert.Equal(2, code);
        Assert.Contains("cannot write", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}
