using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Capture;

/// <summary>
/// A part of a frame handed to the pixel path: a view of the frame's memory (no copy), its rectangle in the frame's
/// native pixels, an optional mask (for polygon zones) and why it was chosen. Valid while its frame is not disposed.
/// </summary>
public readonly record struct Region(ImageView Pixels, PixelRect Rect, RegionReason Reason, string? Name = null, RegionMask? Mask = null);
