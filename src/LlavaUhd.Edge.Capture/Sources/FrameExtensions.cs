using LlavaUhd.Edge.Core.Capture;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>Helpers to reach the OpenCV image behind a <see cref="Frame"/>.</summary>
public static class FrameExtensions
{
    /// <summary>The pooled Mat behind <paramref name="frame"/> when it was grabbed by this library; otherwise null.</summary>
    public static Mat? TryGetMat(this Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.Owner is FrameBuffer buffer ? buffer.Mat : null;
    }
}
