namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>Converts token rows to and from their transport types.</summary>
public static class TokenQuantizer
{
    public static string Name(this TokenDType dtype) => dtype switch
    {
        TokenDType.Float32 => "fp32",
        TokenDType.Float16 => "fp16",
        TokenDType.Int8 => "int8",
        _ => $"unknown({(byte)dtype})",
    };

    public static bool TryParse(string? name, out TokenDType dtype)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "fp32" or "float32":
                dtype = TokenDType.Float32;
                return true;
            case "fp16" or "float16":
                dtype = TokenDType.Float16;
                return true;
            case "int8":
                dtype = TokenDType.Int8;
                return true;
            default:
                dtype = default;
                return false;
        }
    }

    /// <summary>Bytes the payload of <paramref name="tokens"/> rows of <paramref name="width"/> values takes (before compression).</summary>
    public static long PayloadBytes(TokenDType dtype, long tokens, long width) => dtype switch
    {
        TokenDType.Float32 => tokens * width * 4,
        TokenDType.Float16 => tokens * width * 2,
        TokenDType.Int8 => (tokens * 4) + (tokens * width),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Writes <paramref name="features"/> (tokens × width) into <paramref name="payload"/> as <paramref name="dtype"/>.</summary>
    public static void Quantize(ReadOnlySpan<float> features, int tokens, int width, TokenDType dtype, Span<byte> payload)
    {
        switch (dtype)
        {
            case TokenDType.Float32:
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(features[..(tokens * width)]).CopyTo(payload);
                break;
            case TokenDType.Float16:
                for (int i = 0; i < tokens * width; i++)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteHalfLittleEndian(payload[(i * 2)..], (Half)features[i]);
                }

                break;
            case TokenDType.Int8:
                Span<byte> values = payload[(tokens * 4)..];
                for (int t = 0; t < tokens; t++)
                {
                    ReadOnlySpan<float> row = features.Slice(t * width, width);
                    float max = 0;
                    foreach (float v in row)
                    {
                        max = Math.Max(max, Math.Abs(v));
                    }

                    float scale = max > 0 ? max / 127f : 1f;
                    System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(payload[(t * 4)..], scale);
                    for (int c = 0; c < width; c++)
                    {
                        values[(t * width) + c] = (byte)(sbyte)Math.Clamp((int)MathF.Round(row[c] / scale), -127, 127);
                    }
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }

    /// <summary>Reads a payload back into float32 rows.</summary>
    public static void Dequantize(ReadOnlySpan<byte> payload, int tokens, int width, TokenDType dtype, Span<float> features)
    {
        switch (dtype)
        {
            case TokenDType.Float32:
                payload[..(tokens * width * 4)].CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(features));
                break;
            case TokenDType.Float16:
                for (int i = 0; i < tokens * width; i++)
                {
                    features[i] = (float)System.Buffers.Binary.BinaryPrimitives.ReadHalfLittleEndian(payload[(i * 2)..]);
                }

                break;
            case TokenDType.Int8:
                ReadOnlySpan<byte> values = payload[(tokens * 4)..];
                for (int t = 0; t < tokens; t++)
                {
                    float scale = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(payload[(t * 4)..]);
                    for (int c = 0; c < width; c++)
                    {
                        features[(t * width) + c] = (sbyte)values[(t * width) + c] * scale;
                    }
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }
}
