using System.Buffers.Binary;
using System.Numerics;

namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>CRC-32C (Castagnoli), as used by iSCSI, ext4 and Kafka: the token packets' checksum.</summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78; // reflected 0x1EDC6F41
    private static readonly uint[] s_table = BuildTable();

    /// <summary>
    /// CRC-32C of <paramref name="data"/> through the platform's <see cref="BitOperations.Crc32C(uint, ulong)"/>: the
    /// SSE4.2 instruction on x86-64, the ARMv8 CRC instructions on Jetson and Raspberry Pi, a software path elsewhere.
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

    /// <summary>A bit-level reference (a table), for tests to check the platform's path against.</summary>
    internal static uint ComputeSoftware(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc = s_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        uint[] table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
