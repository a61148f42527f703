using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>
/// Chooses the weight range for the CPU the model will run on (docs/quantization.md). ONNX Runtime runs a QDQ MatMul on
/// x86-64 as u8 activations × s8 weights. Without VNNI it multiplies with <c>vpmaddubsw</c>, which adds two u8·s8
/// products into a signed 16-bit lane and saturates: 255·127·2 = 64 770 does not fit in 32 767. With weights in
/// [-64, 64] the worst pair is 255·64·2 = 32 640, which fits, so the integer result is exact on every CPU. With VNNI
/// (<c>vpdpbusd</c>, AVX-512 VNNI or AVX-VNNI) products accumulate in 32 bits; ARM64 widens to 16 bits per single
/// product (255·127 = 32 385 fits) or uses <c>sdot</c>/<c>udot</c>. Both are exact with full-range weights.
/// The Q/DQ ops are standard either way, so TensorRT builds the model unchanged.
/// </summary>
public static class Int8WeightRanges
{
    /// <summary>The largest |q| of a weight for <paramref name="range"/> (Auto must be resolved first).</summary>
    public static int MaxQuantized(WeightRange range) => range switch
    {
        WeightRange.Full => 127,
        WeightRange.Reduced => 64,
        _ => throw new ArgumentException("resolve WeightRange.Auto with Resolve() first", nameof(range)),
    };

    /// <summary>Whether this CPU's u8·s8 kernels accumulate without 16-bit saturation, and what it has.</summary>
    public static (bool Exact, string Reason) ThisCpu()
    {
        if (RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
        {
            return (true, "ARM64: int8 products widen to 16 bits one at a time or use sdot/udot (no saturation)");
        }

        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.X86))
        {
            return (false, $"{RuntimeInformation.ProcessArchitecture}: integer kernels unknown, assuming they may saturate");
        }

        if (AvxVnni.IsSupported)
        {
            return (true, "x86-64 with AVX-VNNI (vpdpbusd accumulates in 32 bits)");
        }

        if (CpuFlags().Contains("avx512_vnni"))
        {
            return (true, "x86-64 with AVX-512 VNNI (vpdpbusd accumulates in 32 bits)");
        }

        return (false, "x86-64 without VNNI: ONNX Runtime's u8s8 kernels (vpmaddubsw) saturate pairs of full-range products");
    }

    /// <summary>Resolves <see cref="WeightRange.Auto"/> for this CPU and says why.</summary>
    public static (WeightRange Range, string Reason) Resolve(WeightRange requested)
    {
        if (requested != WeightRange.Auto)
        {
            return (requested, "chosen explicitly");
        }

        (bool exact, string reason) = ThisCpu();
        return exact ? (WeightRange.Full, reason) : (WeightRange.Reduced, reason);
    }

    private static HashSet<string> CpuFlags()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("flags", StringComparison.Ordinal))
                {
                    return [.. line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)];
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return [];
    }
}
