using System.Buffers;
using System.Runtime.InteropServices;
using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Service.Frames;
using LlavaUhd.Edge.Service.Work;
using OpenCvSharp;

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
