using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>Writes NumPy .npy files (format 1.0, little-endian, C order).</summary>
internal static class NpyWriter
{
    public static void WriteFloat32(string path, ReadOnlySpan<float> data, ReadOnlySpan<int> shape) =>
        Write(path, "<f4", MemoryMarshal.AsBytes(data), shape);

    public static void WriteUInt8(string path, ReadOnlySpan<byte> data, ReadOnlySpan<int> shape) =>
        Write(path, "|u1", data, shape);

    private static void Write(string path, string dtype, ReadOnlySpan<byte> bytes, ReadOnlySpan<int> shape)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The .npy writer assumes a little-endian machine.");
        }

        var dims = new StringBuilder();
        foreach (int d in shape)
        {
            dims.Append(d.ToString(CultureInfo.InvariantCulture)).Append(", ");
        }

        string shapeText = shape.Length == 1 ? $"({shape[0].ToString(CultureInfo.InvariantCulture)},)" : $"({dims.ToString().TrimEnd(',', ' ')})";
        string header = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + ((64 - (total % 64)) % 64)) + "\n";
        using FileStream f = File.Create(path);
        f.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        ushort len = (ushort)header.Length;
        f.Write([(byte)(len & 0xFF), (byte)(len >> 8)]);
        f.Write(Encoding.ASCII.GetBytes(header));
        f.Write(bytes);
    }
}
