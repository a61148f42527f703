namespace LlavaUhd.Edge.Capture.Roi;

/// <summary>Motion detection method.</summary>
public enum MotionMethod
{
    /// <summary>OpenCV's Gaussian-mixture background subtractor (adapts to lighting; shadows ignored).</summary>
    Mog2,

    /// <summary>Absolute difference with the previous frame (cheapest).</summary>
    FrameDifference,
}
