using System.Globalization;

namespace LlavaUhd.Edge.Core.Diagnostics;

/// <summary>
/// The process's resident memory as the kernel counts it (docs/memory.md): <c>VmRSS</c> (now) and <c>VmHWM</c> (the
/// high-water mark since the process started, or since <see cref="TryResetPeak"/>) from <c>/proc/self/status</c>.
/// Elsewhere (no procfs) it falls back to <see cref="Environment.WorkingSet"/> and the process's peak working set.
/// </summary>
public readonly record struct ProcessMemory(long RssBytes, long PeakRssBytes)
{
    private const string StatusPath = "/proc/self/status";

    /// <summary>Reads both figures now.</summary>
    public static ProcessMemory Read()
    {
        if (File.Exists(StatusPath))
        {
            try
            {
                long rss = -1, hwm = -1;
                foreach (string line in File.ReadLines(StatusPath))
                {
                    if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    {
                        rss = Kilobytes(line);
                    }
                    else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        hwm = Kilobytes(line);
                    }
                }

                if (rss >= 0 && hwm >= 0)
                {
                    return new ProcessMemory(rss, Math.Max(rss, hwm));
                }
            }
            catch (IOException)
            {
                // fall through to the portable figures
            }
        }

        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return new ProcessMemory(Environment.WorkingSet, Math.Max(Environment.WorkingSet, process.PeakWorkingSet64));
    }

    /// <summary>
    /// Restarts the high-water mark at the current RSS (Linux: writes 5 to <c>/proc/self/clear_refs</c>), so the next
    /// <see cref="PeakRssBytes"/> is the peak of what follows. False where that is not possible.
    /// </summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DirectoryNotFoundException or FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Bytes → MiB (the unit the CLI prints).</summary>
    public static double Mb(long bytes) => bytes / (1024.0 * 1024.0);

    private static long Kilobytes(string line)
    {
        // "VmHWM:\t  123456 kB"
        ReadOnlySpan<char> value = line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim();
        int space = value.IndexOf(' ');
        ReadOnlySpan<char> digits = space < 0 ? value : value[..space];
        return long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture) * 1024;
    }
}
