namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>Pillow's resampling filters (the numbers are Pillow's <c>Image.Resampling</c> values).</summary>
public enum ResampleFilter
{
    Nearest = 0,
    Lanczos = 1,
    Bilinear = 2,
    Bicubic = 3,
    Box = 4,
    Hamming = 5,
}
