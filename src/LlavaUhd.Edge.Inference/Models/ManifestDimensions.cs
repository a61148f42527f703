namespace LlavaUhd.Edge.Inference.Models;

/// <summary>Model dimensions the runtime needs (KV cache shapes, embedding width, encoder input size).</summary>
public sealed class ManifestDimensions
{
    /// <summary>Text hidden size (the width of <c>inputs_embeds</c> and <c>image_features</c>).</summary>
    public int TextHidden { get; init; }

    public int VisionHidden { get; init; }

    public int NumLayers { get; init; }

    public int NumKeyValueHeads { get; init; }

    public int HeadDim { get; init; }

    public int VocabSize { get; init; }

    /// <summary>The encoder's view side (SmolVLM tile 512; MiniCPM-V scale resolution 448).</summary>
    public int ImageSize { get; init; }

    public int PatchSize { get; init; }

    /// <summary>Visual tokens per view (SmolVLM 64, after the pixel shuffle; MiniCPM-V: resampler queries).</summary>
    public int TokensPerView { get; init; }

    /// <summary>minicpmv: the side of the position-embedding grid the patch positions are bucketed into.</summary>
    public int PositionGrid { get; init; }

    public IReadOnlyList<float> ImageMean { get; init; } = [0.5f, 0.5f, 0.5f];

    public IReadOnlyList<float> ImageStd { get; init; } = [0.5f, 0.5f, 0.5f];
}
