namespace LlavaUhd.Edge.Service.Options;

/// <summary>Per-camera token settings (null: the <c>Service:Tokens</c> default).</summary>
internal sealed class TokenCameraOptions
{
    public string? DType { get; set; }

    public bool? Brotli { get; set; }
}
