namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>How a <see cref="ViewBatch"/> lays its views out.</summary>
public enum TensorLayout
{
    /// <summary>One tensor per view, each <c>[3, H, W]</c> at its own size, back to back (MiniCPM-V's list of views).</summary>
    PerView,

    /// <summary>
    /// One batch <c>[N, 3, Hmax, Wmax]</c>, each view top-left aligned, plus a mask <c>[N, Hmax, Wmax]</c>. Idefics3's
    /// <c>pixel_values [1, N, 3, 512, 512]</c> and <c>pixel_attention_mask [1, N, 512, 512]</c> are this layout
    /// (all views the tile size); for MiniCPM-V it is the padded batch whose mask gives the patch attention mask.
    /// </summary>
    PaddedBatch,
}
