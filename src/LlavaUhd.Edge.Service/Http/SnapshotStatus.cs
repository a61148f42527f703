namespace LlavaUhd.Edge.Service.Http;

/// <summary>Why a snapshot could not be made.</summary>
internal enum SnapshotStatus
{
    Ok,
    UnknownCamera,
    NoFrame,

    /// <summary>The answered frame asked for is no longer (or never was) held.</summary>
    UnknownFrame,
}
