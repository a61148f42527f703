namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>Size and drift of one quantized session against its FP32 original on held-out views.</summary>
public sealed record SessionReport(string Session, long BytesFp32, long BytesInt8, double Cosine, double MaxAbsErr, string ComparedOutput)
{
    /// <summary>qdq-int8: the weight range written (Full or Reduced); q4: null.</summary>
    public WeightRange? WeightRange { get; init; }

    /// <summary>Why that range: the CPU's integer kernels, or an explicit choice.</summary>
    public string? WeightRangeReason { get; init; }
}
