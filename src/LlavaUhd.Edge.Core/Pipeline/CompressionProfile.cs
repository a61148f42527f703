namespace LlavaUhd.Edge.Core.Pipeline;

/// <summary>
/// How hard to look: how many views a region gets. Token counts and costs per profile are measured in the README.
/// </summary>
public enum CompressionProfile
{
    /// <summary>Overview only (MiniCPM-V) or a single global tile (SmolVLM): the fewest tokens.</summary>
    Fast,

    /// <summary>A few slices (MiniCPM-V: at most 4; SmolVLM: longest edge 2 tiles).</summary>
    Balanced,

    /// <summary>The model's reference slicing (max slices / longest edge of the package): bit-exact with the reference processor.</summary>
    Detail,

    /// <summary>Detail, keeping the aspect ratio with padding instead of stretching (text stays undistorted).</summary>
    Ocr,

    /// <summary>Never upscale a region beyond its native resolution (a 400-px region costs one SmolVLM view instead of seventeen).</summary>
    Native,
}
