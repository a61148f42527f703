using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>
/// Where a camera's frames come from. <see cref="Open"/> throws <see cref="Errors.CameraException"/> with a clear
/// reason when the source cannot be opened; <see cref="Read"/> fills a caller-owned <see cref="Mat"/> (reusing its
/// buffer when the size is unchanged) and returns false at the end of the stream or when the source is lost.
/// Sources are used from one thread (the camera's grab loop).
/// </summary>
public interface ICameraSource : IDisposable
{
    /// <summary>What this source is, for states and logs (never secrets: URL credentials are stripped).</summary>
    string Description { get; }

    /// <summary>True for sources that end (files, folders); false for devices, streams and patterns.</summary>
    bool IsFinite { get; }

    void Open();

    /// <summary>Reads the next frame as 8-bit BGR into <paramref name="destination"/>.</summary>
    bool Read(Mat destination);

    /// <summary>Why the last <see cref="Read"/> returned false, when the source knows (a stall, a decoder's error); null otherwise.</summary>
    string? LastError => null;
}
