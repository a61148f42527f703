namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>The range of symmetric int8 weights the QDQ quantizer writes.</summary>
public enum WeightRange
{
    /// <summary>Full where the CPU's integer kernels cannot saturate, reduced where they can (see <see cref="Int8WeightRanges"/>).</summary>
    Auto,

    /// <summary>[-127, 127]: the most precision; saturates in ONNX Runtime's u8s8 kernels on x86-64 without VNNI.</summary>
    Full,

    /// <summary>[-64, 64] (7 bits): no saturation on any CPU; about half a bit less precision.</summary>
    Reduced,
}
