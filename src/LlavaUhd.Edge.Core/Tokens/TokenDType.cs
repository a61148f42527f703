namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>How visual tokens are stored in a packet.</summary>
public enum TokenDType : byte
{
    Float32 = 0,
    Float16 = 1,

    /// <summary>Symmetric int8 per token: value = q × scale, scale = max|x| / 127 per token (a float32 each).</summary>
    Int8 = 2,
}
