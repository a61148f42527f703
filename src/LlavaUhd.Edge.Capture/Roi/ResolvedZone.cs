using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Slicing;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Roi;

/// <summary>A zone mapped to a frame size: its crop rectangle, its polygon and (if asked) its mask, in native pixels.</summary>
public sealed record ResolvedZone(string Name, PixelRect Rect, IReadOnlyList<Point> Polygon, RegionMask? Mask);
