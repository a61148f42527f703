using System.Globalization;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>A snapshot of a camera's state, for health reports.</summary>
public sealed record CameraStatus(
    string CameraId,
    CameraState State,
    string? Reason,
    int Attempt,
    TimeSpan? RetryIn,
    long FramesGrabbed,
    long FramesDropped,
    int Reconnects,
    DateTimeOffset Since)
{
    public override string ToString()
    {
        string s = string.Create(CultureInfo.InvariantCulture, $"{CameraId}: {State}");
        if (Reason is not null)
        {
            s += $": {Reason}";
        }

        if (RetryIn is { } retry)
        {
            s += string.Create(CultureInfo.InvariantCulture, $" (attempt {Attempt}, retry in {retry.TotalSeconds:0.###} s)");
        }

        return s;
    }
}
