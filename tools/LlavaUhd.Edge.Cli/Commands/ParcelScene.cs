using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>A rendered scene: the frame, its parcels and its questions.</summary>
internal sealed class ParcelScene : IDisposable
{
    public ParcelScene(Mat image, Rect belt, IReadOnlyList<Parcel> parcels, IReadOnlyList<SceneQuestion> questions)
    {
        Belt = belt;
        Image = image;
        Parcels = parcels;
        Questions = questions;
    }

    public Mat Image { get; }

    /// <summary>The belt band (without its rails).</summary>
    public Rect Belt { get; }

    public IReadOnlyList<Parcel> Parcels { get; }

    public IReadOnlyList<SceneQuestion> Questions { get; }

    public void Dispose() => Image.Dispose();
}
