using System.Diagnostics;

namespace LlavaUhd.Edge.Service.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium run headless for one page: <c>--dump-dom</c> (the DOM after the page loaded) and
/// <c>--screenshot</c>. Started with the flags this machine's closed network needs and a fresh profile each time.
/// Missing Chromium fails the test with what to run, it is never skipped.
/// </summary>
public static class HeadlessChromium
{
    private static readonly string[] s_candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    public static string Path => s_candidates.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("Chromium is not installed (/usr/bin/chromium); run tools/setup.sh (as root it installs Debian's chromium).");

    public static async Task<string> DumpDomAsync(string url, TimeSpan timeout)
    {
        (string stdout, _) = await RunAsync(["--dump-dom", url], timeout);
        return stdout;
    }

    /// <summary>Takes a screenshot of <paramref name="url"/> at <paramref name="width"/> × <paramref name="height"/> into <paramref name="png"/>.</summary>
    public static async Task ScreenshotAsync(string url, string png, int width, int height, TimeSpan timeout)
    {
        (_, string stderr) = await RunAsync([$"--screenshot={png}", $"--window-size={width},{height}", "--hide-scrollbars", url], timeout);
        if (!File.Exists(png))
        {
            throw new InvalidOperationException($"Chromium wrote no screenshot: {stderr}");
        }
    }

    private static async Task<(string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, TimeSpan timeout)
    {
        string profile = Directory.CreateTempSubdirectory("chromium-profile-").FullName;
        var info = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", $"--user-data-dir={profile}"])
        {
            info.ArgumentList.Add(a);
        }

        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        using Process p = Process.Start(info) ?? throw new InvalidOperationException("Chromium did not start");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"Chromium did not finish within {timeout.TotalSeconds} s: {await stderr}");
        }
        finally
        {
            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        return (await stdout, await stderr);
    }
}
