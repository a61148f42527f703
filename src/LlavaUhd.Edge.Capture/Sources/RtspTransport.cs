namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>How RTSP carries the media: interleaved in the RTSP TCP connection, or as RTP over UDP.</summary>
public enum RtspTransport
{
    Tcp,
    Udp,
}
