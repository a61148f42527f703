namespace LlavaUhd.Edge.Cli.Tests;

public sealed class RoiCommandTests
{
    [Fact]
    public void Roi_Json_PrintsOneObjectPerFrame_InNativePixels()
    {
        string zones = Path.Combine(Path.GetTempPath(), $"zones-{Guid.NewGuid():N}.json");
        File.WriteAllText(zones, """[{"name":"left","rect":[0,0,0.5,1]}]""");
        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, "roi", "testpattern:320x240", "--zones", zones, "--motion", "--method", "FrameDifference", "--frames", "3", "--json");
        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal("""{"frame":0,"rois":[[0,0,160,240]]}""", lines[0]);
        Assert.StartsWith("""{"frame":1,"rois":[[0,0,160,240],[""", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Roi_BadConfiguration_ListsEveryProblem()
    {
        string zones = Path.Combine(Path.GetTempPath(), $"zones-{Guid.NewGuid():N}.json");
        File.WriteAllText(zones, """{"zones":[{"name":"a","polygon":[[0,0],[1,1]]},{"name":"b","rect":[0.5,0.5,0,0.2]}]}""");
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "roi", "v4l2src ! videoconvert", "--zones", zones);
        Assert.Equal(2, code);
        Assert.Contains("appsink", stderr, StringComparison.Ordinal);
        Assert.Contains("at least 3 points", stderr, StringComparison.Ordinal);
        Assert.Contains("zero size", stderr, StringComparison.Ordinal);
    }
}
