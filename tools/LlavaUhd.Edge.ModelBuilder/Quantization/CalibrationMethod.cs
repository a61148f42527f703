namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>How activation ranges are chosen from calibration data.</summary>
public enum CalibrationMethod
{
    /// <summary>The largest |x| seen.</summary>
    MinMax,

    /// <summary>The 99.99th percentile of |x| (clips rare outliers).</summary>
    Percentile,

    /// <summary>TensorRT's entropy calibration: the clip threshold whose 128-level quantization minimises KL divergence.</summary>
    Entropy,
}
