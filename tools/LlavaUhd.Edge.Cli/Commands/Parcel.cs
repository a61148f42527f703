using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>A parcel in a rendered scene: its colour name, box in frame pixels and printed code.</summary>
internal sealed record Parcel(string Color, Rect Box, string Code)
{
    public int CenterX => Box.X + (Box.Width / 2);

    public long Area => (long)Box.Width * Box.Height;
}
