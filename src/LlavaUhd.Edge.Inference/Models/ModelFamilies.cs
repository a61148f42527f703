namespace LlavaUhd.Edge.Inference.Models;

/// <summary>
/// Model families the runtime knows: the public SmolVLM exports, our documented MiniCPM-V-style contract, and
/// LLaVA-UHD-style models on the SmolVLM text side.
/// </summary>
public static class ModelFamilies
{
    /// <summary>SmolVLM / Idefics3: 3 sessions, Idefics3 tiling, pixel-shuffle connector inside the vision encoder.</summary>
    public const string SmolVlm = "smolvlm";

    /// <summary>LLaVA-UHD / MiniCPM-V: 4 sessions, one view per encoder call, a perceiver resampler per view.</summary>
    public const string MiniCpmV = "minicpmv";

    /// <summary>LLaVA-UHD style: MiniCPM-V's sessions and visual path, SmolVLM's tokenizer and template, LLaVA-UHD's schema.</summary>
    public const string LlavaUhd = "llava-uhd";
}
