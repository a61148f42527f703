namespace LlavaUhd.Edge.Core.Capture;

/// <summary>Why a region was chosen.</summary>
public enum RegionReason
{
    /// <summary>The whole frame (no zones and no motion selection configured).</summary>
    Full,

    /// <summary>A static zone configured for the camera.</summary>
    Zone,

    /// <summary>A box where motion was detected.</summary>
    Motion,
}
