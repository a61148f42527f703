namespace LlavaUhd.Edge.Inference.Models;

/// <summary>
/// Precision variants of a package and their file-name suffixes. The public ones follow transformers.js
/// (<c>DEFAULT_DTYPE_SUFFIX_MAPPING</c>); <c>qdq-int8</c> is ours: static INT8 with QuantizeLinear/DequantizeLinear pairs
/// (per-channel symmetric int8 weights, calibrated symmetric int8 activations), which TensorRT can build INT8 engines from.
/// </summary>
public static class ModelVariants
{
    public const string Fp32 = "fp32";
    public const string Fp16 = "fp16";
    public const string Int8 = "int8";
    public const string Uint8 = "uint8";
    public const string Q8 = "q8";
    public const string Q4 = "q4";
    public const string Q4F16 = "q4f16";
    public const string Bnb4 = "bnb4";
    public const string QdqInt8 = "qdq-int8";

    /// <summary>The CPU decoder (docs/cpu-decoder.md) with 8-bit MatMulNBits weights; the encoder of qdq-int8 (or fp32).</summary>
    public const string CpuInt8 = "cpu-int8";

    /// <summary>The CPU decoder with 4-bit MatMulNBits weights and an 8-bit output head.</summary>
    public const string CpuQ4 = "cpu-q4";

    private static readonly Dictionary<string, string> s_suffixes = new(StringComparer.Ordinal)
    {
        [Fp32] = "",
        [Fp16] = "_fp16",
        [Int8] = "_int8",
        [Uint8] = "_uint8",
        [Q8] = "_quantized",
        [Q4] = "_q4",
        [Q4F16] = "_q4f16",
        [Bnb4] = "_bnb4",
        [QdqInt8] = "_qdq_int8",
        [CpuInt8] = "_cpu_int8",
        [CpuQ4] = "_cpu_q4",
    };

    /// <summary>Every known variant name.</summary>
    public static IReadOnlyCollection<string> All => s_suffixes.Keys;

    public static bool IsKnown(string variant) => s_suffixes.ContainsKey(variant);

    /// <summary>The file-name suffix of a variant (<c>""</c> for fp32, <c>_qdq_int8</c> for qdq-int8).</summary>
    public static string Suffix(string variant) =>
        s_suffixes.TryGetValue(variant, out string? suffix)
            ? suffix
            : throw new ArgumentException($"unknown variant '{variant}' (known: {string.Join(", ", s_suffixes.Keys)})", nameof(variant));

    /// <summary>The path of a session's file inside the package, e.g. <c>onnx/decoder_model_merged_qdq_int8.onnx</c>.</summary>
    public static string FileOf(string session, string variant) => $"onnx/{session}{Suffix(variant)}.onnx";
}
