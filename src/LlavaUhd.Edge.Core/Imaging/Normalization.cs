using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>
/// Per-channel normalisation fused into the tensor write: <c>(v / 255 − mean) / std</c> for v in 0‥255, RGB order,
/// computed as <c>v · Scale + Bias</c> in float32 (identically on the scalar and SIMD paths).
/// </summary>
public sealed record Normalization(float MeanR, float MeanG, float MeanB, float StdR, float StdG, float StdB)
{
    /// <summary>mean 0.5, std 0.5 (MiniCPM-V, SmolVLM / Idefics3 SigLIP): maps 0‥255 to −1‥1.</summary>
    public static Normalization Half { get; } = new(0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f);

    /// <summary>OpenAI CLIP's mean and std (LLaVA-UHD v1's CLIP ViT-L/14).</summary>
    public static Normalization Clip { get; } = new(0.48145466f, 0.4578275f, 0.40821073f, 0.26862954f, 0.26130258f, 0.27577711f);

    /// <summary>The normalisation the scheme's reference processor uses.</summary>
    public static Normalization For(SliceScheme scheme) => scheme == SliceScheme.LlavaUhdV1 ? Clip : Half;

    /// <summary>The multiplier of channel <paramref name="c"/> (0 = R): 1 / (255 · std).</summary>
    public float Scale(int c) => (float)(1.0 / (255.0 * Std(c)));

    /// <summary>The offset of channel <paramref name="c"/>: −mean / std.</summary>
    public float Bias(int c) => (float)(-(double)Mean(c) / Std(c));

    public float Mean(int c) => c switch { 0 => MeanR, 1 => MeanG, _ => MeanB };

    public float Std(int c) => c switch { 0 => StdR, 1 => StdG, _ => StdB };

    /// <summary>Throws <see cref="ArgumentException"/> when a std is not positive or a value is not finite.</summary>
    public void Validate()
    {
        for (int c = 0; c < 3; c++)
        {
            if (!float.IsFinite(Mean(c)) || !float.IsFinite(Std(c)) || Std(c) <= 0)
            {
                throw new ArgumentException($"Normalisation channel {c}: mean {Mean(c)}, std {Std(c)}; std must be positive and both finite.");
            }
        }
    }
}
