namespace LlavaUhd.Edge.Service.Options;

/// <summary>A rectangle in native pixels of the frame.</summary>
internal sealed class RoiOptions
{
    public int X { get; set; }

    public int Y { get; set; }

    public int Width { get; set; }

    public int Height { get; set; }
}
