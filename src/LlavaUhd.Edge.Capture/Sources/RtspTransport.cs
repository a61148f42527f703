using System.Globalization;
using LlavaUhd.Edge.Capture.Errors;
using LlavaUhd.Edge.Capture.Roi;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>How RTSP carries the media: interleaved in the RTSP TCP connection, or as RTP over UDP.</summary>
public enum RtspTransport
{
    Tcp,
    Udp,
}
