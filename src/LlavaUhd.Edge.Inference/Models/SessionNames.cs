namespace LlavaUhd.Edge.Inference.Models;

/// <summary>Session names (the file stem in <c>onnx/</c>).</summary>
public static class SessionNames
{
    public const string VisionEncoder = "vision_encoder";
    public const string Resampler = "resampler";
    public const string EmbedTokens = "embed_tokens";
    public const string Decoder = "decoder_model_merged";
}
