using System.Buffers.Binary;
using System.Numerics;

namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>CRC-32C (Castagnoli), as used by iSCSI, ext4 and Kafka: the token packets' checksum.</summary>
public static class Crc32C
{
    /// <summary>
    /// CRC-32C of <paramref name="data"/> through the platform's <see cref="BitOperations.Crc32C(uint, ulong)"/>: the
    /// SSE4.2 instruction on x86-64, the ARMv8 CRC instructions on Jetson and Raspberry Pi, a software path elsewhere.
    /// Eight bytes a step (read little-endian, as the CRC defines), then the tail a byte at a time.
    /// </summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
