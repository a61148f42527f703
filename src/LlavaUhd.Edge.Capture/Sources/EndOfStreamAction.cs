namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>What a camera does when a source ends (a file or folder reaches its end, a stream stops).</summary>
public enum EndOfStreamAction
{
    /// <summary>Files and folders stop (state Ended); devices and streams reconnect.</summary>
    Default,

    /// <summary>Stop; the camera's state becomes Ended.</summary>
    Stop,

    /// <summary>Start again from the first frame without reconnecting (files and folders).</summary>
    Loop,

    /// <summary>Close and reopen the source with back-off, as after a failure.</summary>
    Reconnect,
}
