namespace LlavaUhd.Edge.Service.Http;

/// <summary>What to draw on a snapshot (<c>?overlay=roi,slices</c>).</summary>
[Flags]
internal enum SnapshotOverlays
{
    None = 0,

    /// <summary>The camera's zones (yellow, named) and the last motion box (red).</summary>
    Roi = 1,

    /// <summary>The region of the camera's last answer (green) and its slices (blue).</summary>
    Slices = 2,
}
