namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>The life cycle of one camera.</summary>
public enum CameraState
{
    /// <summary>Not started, or stopped.</summary>
    Stopped,

    /// <summary>Opening the source (first time or after a failure).</summary>
    Connecting,

    /// <summary>Frames are arriving.</summary>
    Live,

    /// <summary>Opening or reading failed; <see cref="CameraStatus.Reason"/> says why; a reconnect is scheduled.</summary>
    Failed,

    /// <summary>A finite source (file, folder) reached its end and is configured to stop.</summary>
    Ended,
}
