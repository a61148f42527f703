namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>The vision MLP activations the model builder writes, by their Hugging Face <c>hidden_act</c> names.</summary>
public static class VisionActivations
{
    /// <summary>Exact GELU, 0.5·x·(1 + erf(x/√2)): the demo model was trained with it.</summary>
    public const string Gelu = "gelu";

    /// <summary>The tanh approximation: SigLIP's and SmolVLM-256M-Instruct's vision tower (<c>vision_config.hidden_act</c>).</summary>
    public const string GeluTanh = "gelu_pytorch_tanh";
}
