using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// The machine's read bandwidth as a decoder sees it: every processor streaming its share of a buffer far larger than
/// the caches, best of five passes. The bound a token cannot beat is this divided by the bytes of weights it reads.
/// </summary>
internal static class ReadBandwidth
{
    /// <returns>GB/s (10⁹ bytes per second).</returns>
    public static double Measure(int megabytes = 512, int passes = 5)
    {
        int parts = Environment.ProcessorCount;
        int chunk = (megabytes << 20) / parts / 128 * 128;
        byte[] data = GC.AllocateUninitializedArray<byte>(chunk * parts, pinned: true);
        data.AsSpan().Fill(1); // touch every page before timing
        long sink = 0;
        double best = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, p =>
            {
                ReadOnlySpan<Vector256<byte>> v = MemoryMarshal.Cast<byte, Vector256<byte>>(data.AsSpan(p * chunk, chunk));
                Vector256<byte> a = default, b = default, c = default, d = default;
                for (int i = 0; i < v.Length; i += 4)
                {
                    a ^= v[i];
                    b ^= v[i + 1];
                    c ^= v[i + 2];
                    d ^= v[i + 3];
                }

                Interlocked.Add(ref sink, (a ^ b ^ c ^ d).GetElement(0));
            });
            best = Math.Max(best, (double)data.Length / clock.Elapsed.TotalSeconds / 1e9);
        }

        GC.KeepAlive(sink);
        return best;
    }
}
