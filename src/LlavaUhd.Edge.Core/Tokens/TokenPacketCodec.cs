using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Core.Tokens;

/// <summary>
/// The binary token packet, version 1 (little-endian):
/// <code>
/// "LUTK" | u16 version | u16 flags (bit 0: Brotli payload) | u32 packet length (all bytes, checksum included)
/// str model_id | 32-byte weights sha256
/// slicing: u8 scheme, u16 max_slices, u16 scale_resolution, u16 patch, u16 longest_edge, u16 tile, u32 tokens_per_view,
///          f64 overlap, u8 preserve_aspect, f64 max_aspect (NaN = none), u8 v1_whole_image_adapt
/// u32 original_w, u32 original_h
/// u16 view_count, per view: u8 kind, i16 row, i16 col, u32 w, u32 h, u32 tokens
/// str camera | i32 roi x, y, w, h | i64 frame time (unix µs) | i64 frame sequence
/// u8 dtype | u32 width | u32 raw_payload_bytes | u32 stored_payload_bytes | payload
/// u32 CRC-32C of everything before it
/// </code>
/// (str = u16 byte length + UTF-8.) The reader checks every length against the bytes present and hard limits, so a
/// hostile packet gets a specific <see cref="TokenPacketException"/>, never a crash, a hang or a huge allocation.
/// </summary>
public static class TokenPacketCodec
{
    public const ushort Version = 1;
    public const int DefaultMaxPacketBytes = 16 * 1024 * 1024;
    public const string ContentType = "application/vnd.llava-edge.tokens";
    public const int MaxViews = 1024;
    public const int MaxTokens = 1 << 20;
    public const int MaxWidth = 65_536;
    public const int MaxString = 256;
    private const ushort FlagBrotli = 1;
    private static ReadOnlySpan<byte> Magic => "LUTK"u8;

    /// <summary>Serialises <paramref name="packet"/>; throws <see cref="TokenPacketException"/> (TooLarge) past <paramref name="maxBytes"/>.</summary>
    public static byte[] Encode(TokenPacket packet, TokenDType dtype, bool brotli, int maxBytes = DefaultMaxPacketBytes)
    {
        ArgumentNullException.ThrowIfNull(packet);
        long raw = TokenQuantizer.PayloadBytes(dtype, packet.TokenCount, packet.Width);
        if (raw > maxBytes)
        {
            throw new TokenPacketException(
                TokenPacketError.TooLarge,
                string.Create(CultureInfo.InvariantCulture, $"{packet.TokenCount} tokens × {packet.Width} as {dtype.Name()} need {raw} bytes, above the {maxBytes}-byte packet cap; use int8, fewer slices or a smaller region."));
        }

        byte[] payload = ArrayPool<byte>.Shared.Rent((int)raw);
        byte[]? compressed = null;
        try
        {
            TokenQuantizer.Quantize(packet.Features, packet.TokenCount, packet.Width, dtype, payload.AsSpan(0, (int)raw));
            ReadOnlySpan<byte> stored = payload.AsSpan(0, (int)raw);
            if (brotli)
            {
                compressed = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength((int)raw));
                if (!BrotliEncoder.TryCompress(stored, compressed, out int written, quality: 5, window: 22))
                {
                    throw new TokenPacketException(TokenPacketError.DecompressionFailed, "Brotli compression failed.");
                }

                stored = compressed.AsSpan(0, written);
            }

            var w = new ArrayBufferWriter<byte>(256 + stored.Length);
            w.Write(Magic);
            U16(w, Version);
            U16(w, brotli ? FlagBrotli : (ushort)0);
            int lengthAt = w.WrittenCount;
            U32(w, 0);
            Str(w, packet.Encoder.ModelId);
            if (packet.Encoder.WeightsHash.Length != EncoderIdentity.HashLength)
            {
                throw new TokenPacketException(TokenPacketError.InvalidHeader, "The encoder weights hash must be 32 bytes (SHA-256).");
            }

            w.Write(packet.Encoder.WeightsHash.AsSpan());
            WriteSlicing(w, packet.Slicing);
            U32(w, (uint)packet.Original.Width);
            U32(w, (uint)packet.Original.Height);
            U16(w, (ushort)packet.Views.Length);
            foreach (PacketView v in packet.Views)
            {
                w.Write([(byte)v.Kind]);
                I16(w, (short)v.Row);
                I16(w, (short)v.Column);
                U32(w, (uint)v.Size.Width);
                U32(w, (uint)v.Size.Height);
                U32(w, (uint)v.Tokens);
            }

            Str(w, packet.Source.Camera);
            I32(w, packet.Source.Roi.X);
            I32(w, packet.Source.Roi.Y);
            I32(w, packet.Source.Roi.Width);
            I32(w, packet.Source.Roi.Height);
            I64(w, (packet.Source.FrameTime.UtcTicks - DateTime.UnixEpoch.Ticks) / 10);
            I64(w, packet.Source.FrameSequence);
            w.Write([(byte)dtype]);
            U32(w, (uint)packet.Width);
            U32(w, (uint)raw);
            U32(w, (uint)stored.Length);
            w.Write(stored);
            int total = w.WrittenCount + 4;
            byte[] bytes = new byte[total];
            w.WrittenSpan.CopyTo(bytes);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(lengthAt), (uint)total);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(total - 4), Crc32C.Compute(bytes.AsSpan(0, total - 4)));
            if (total > maxBytes)
            {
                throw new TokenPacketException(TokenPacketError.TooLarge, string.Create(CultureInfo.InvariantCulture, $"The packet is {total} bytes, above the {maxBytes}-byte cap."));
            }

            return bytes;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
            if (compressed is not null)
            {
                ArrayPool<byte>.Shared.Return(compressed);
            }
        }
    }

    /// <summary>Parses and verifies a packet; every failure is a <see cref="TokenPacketException"/> naming the check.</summary>
    public static TokenPacket Decode(ReadOnlySpan<byte> data, int maxBytes = DefaultMaxPacketBytes)
    {
        if (data.Length > maxBytes)
        {
            throw new TokenPacketException(TokenPacketError.TooLarge, $"The packet is {data.Length} bytes, above the {maxBytes}-byte cap.");
        }

        if (data.Length < 8)
        {
            throw new TokenPacketException(TokenPacketError.Truncated, $"{data.Length} bytes is shorter than a packet header.");
        }

        if (!data[..4].SequenceEqual(Magic))
        {
            throw new TokenPacketException(TokenPacketError.BadMagic, "Not a token packet (the first 4 bytes are not \"LUTK\").");
        }

        var r = new Reader(data[..^4]);
        r.Skip(4);
        ushort version = r.U16();
        if (version != Version)
        {
            throw new TokenPacketException(TokenPacketError.UnsupportedVersion, $"Packet version {version}; this build reads version {Version}.");
        }

        if (data.Length < 16)
        {
            throw new TokenPacketException(TokenPacketError.Truncated, "The packet ends inside its header.");
        }

        uint declared = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        if (declared > data.Length)
        {
            throw new TokenPacketException(TokenPacketError.Truncated, $"The packet says it is {declared} bytes long; {data.Length} arrived.");
        }

        if (declared < data.Length)
        {
            throw new TokenPacketException(TokenPacketError.PayloadSizeMismatch, $"{data.Length - declared} unexpected bytes after the {declared}-byte packet.");
        }

        uint expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        uint actualCrc = Crc32C.Compute(data[..^4]);
        if (expectedCrc != actualCrc)
        {
            throw new TokenPacketException(TokenPacketError.ChecksumMismatch, $"CRC-32C is {actualCrc:x8}, the packet says {expectedCrc:x8} (corrupted in transit?).");
        }

        ushort flags = r.U16();
        if ((flags & ~FlagBrotli) != 0)
        {
            throw Invalid($"unknown flags 0x{flags:x4}");
        }

        r.Skip(4); // length, checked above

        string modelId = r.Str("model id");
        ImmutableArray<byte> hash = [.. r.Bytes(EncoderIdentity.HashLength)];
        SlicingOptions slicing = ReadSlicing(ref r);
        var original = new PixelSize((int)r.U32Max("original width", SlicingOptions.MaxDimension), (int)r.U32Max("original height", SlicingOptions.MaxDimension));
        int viewCount = r.U16();
        if (viewCount is 0 or > MaxViews)
        {
            throw Invalid($"view count {viewCount} is outside 1..{MaxViews}");
        }

        var views = ImmutableArray.CreateBuilder<PacketView>(viewCount);
        long tokens = 0;
        for (int i = 0; i < viewCount; i++)
        {
            byte kind = r.U8();
            if (kind > (byte)ViewKind.Global)
            {
                throw Invalid($"view {i} has unknown kind {kind}");
            }

            short row = r.I16();
            short col = r.I16();
            var size = new PixelSize((int)r.U32Max("view width", 1 << 20), (int)r.U32Max("view height", 1 << 20));
            int viewTokens = (int)r.U32Max("view tokens", MaxTokens);
            tokens += viewTokens;
            views.Add(new PacketView((ViewKind)kind, row, col, size, viewTokens));
        }

        string camera = r.Str("camera");
        var roi = new PixelRect(r.I32(), r.I32(), r.I32(), r.I32());
        long micros = r.I64();
        long sequence = r.I64();
        long maxMicros = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        if (micros < -DateTime.UnixEpoch.Ticks / 10 || micros > maxMicros)
        {
            throw Invalid($"frame time {micros} µs is out of range");
        }

        byte dtypeByte = r.U8();
        if (dtypeByte > (byte)TokenDType.Int8)
        {
            throw Invalid($"unknown dtype {dtypeByte}");
        }

        var dtype = (TokenDType)dtypeByte;
        int width = (int)r.U32Max("width", MaxWidth);
        if (width == 0 || tokens == 0 || tokens > MaxTokens)
        {
            throw Invalid($"{tokens} tokens of width {width} is not a valid tensor");
        }

        long expectedRaw = TokenQuantizer.PayloadBytes(dtype, tokens, width);
        uint raw = r.U32();
        uint stored = r.U32();
        if (raw != expectedRaw)
        {
            throw new TokenPacketException(TokenPacketError.PayloadSizeMismatch, $"{tokens} tokens × {width} as {dtype.Name()} need {expectedRaw} payload bytes; the header says {raw}.");
        }

        if (raw > maxBytes * 16L)
        {
            throw new TokenPacketException(TokenPacketError.TooLarge, $"The decompressed payload would be {raw} bytes.");
        }

        ReadOnlySpan<byte> payload = r.Bytes((int)Math.Min(stored, int.MaxValue));
        if (r.Remaining != 0)
        {
            throw new TokenPacketException(TokenPacketError.PayloadSizeMismatch, $"{r.Remaining} unexpected bytes after the payload.");
        }

        bool brotli = (flags & FlagBrotli) != 0;
        if (!brotli && stored != raw)
        {
            throw new TokenPacketException(TokenPacketError.PayloadSizeMismatch, $"An uncompressed payload of {stored} bytes where {raw} are needed.");
        }

        float[] features = new float[tokens * width];
        if (brotli)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent((int)raw);
            try
            {
                if (!BrotliDecoder.TryDecompress(payload, buffer.AsSpan(0, (int)raw), out int written) || written != raw)
                {
                    throw new TokenPacketException(TokenPacketError.DecompressionFailed, $"The Brotli payload does not decompress to the {raw} bytes the header promises.");
                }

                TokenQuantizer.Dequantize(buffer.AsSpan(0, (int)raw), (int)tokens, width, dtype, features);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        else
        {
            TokenQuantizer.Dequantize(payload, (int)tokens, width, dtype, features);
        }

        var identity = new EncoderIdentity(modelId, hash);
        var source = new PacketSource(camera, roi, DateTimeOffset.FromUnixTimeMilliseconds(0).AddTicks(micros * 10), sequence);
        return new TokenPacket(identity, slicing, original, views.MoveToImmutable(), source, width, features)
        {
            WireDType = dtype,
            WireBrotli = brotli,
        };
    }

    /// <summary>
    /// Checks that <paramref name="packet"/> was made by <paramref name="expected"/> and that its views are the ones
    /// the slicing options give for its region size; returns the re-made plan.
    /// </summary>
    public static SlicePlan Verify(TokenPacket packet, EncoderIdentity expected)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(expected);
        if (!packet.Encoder.Matches(expected))
        {
            throw new TokenPacketException(
                TokenPacketError.EncoderMismatch,
                $"These tokens were made by encoder '{packet.Encoder.ModelId}' (weights {packet.Encoder.HashHex[..12]}…); this decoder runs '{expected.ModelId}' (weights {expected.HashHex[..12]}…).");
        }

        SlicePlan plan;
        try
        {
            plan = SlicePlanner.Plan(packet.Original, packet.Slicing);
        }
        catch (SlicingException ex)
        {
            throw new TokenPacketException(TokenPacketError.PlanMismatch, $"The packet's slicing options cannot be planned: {ex.Message}");
        }

        if (plan.Views.Length != packet.Views.Length)
        {
            throw new TokenPacketException(TokenPacketError.PlanMismatch, $"The packet has {packet.Views.Length} views; its slicing options give {plan.Views.Length}.");
        }

        for (int i = 0; i < plan.Views.Length; i++)
        {
            SliceView v = plan.Views[i];
            PacketView p = packet.Views[i];
            if (v.Kind != p.Kind || v.Row != p.Row || v.Column != p.Column || v.Size != p.Size || p.Tokens > v.Tokens || p.Tokens < 1)
            {
                throw new TokenPacketException(TokenPacketError.PlanMismatch, $"View {i} is {p.Kind} r{p.Row}c{p.Column} {p.Size} with {p.Tokens} tokens; the plan says {v.Kind} r{v.Row}c{v.Column} {v.Size} with at most {v.Tokens}.");
            }
        }

        return plan;
    }

    private static TokenPacketException Invalid(string what) => new(TokenPacketError.InvalidHeader, what);

    private static void WriteSlicing(ArrayBufferWriter<byte> w, SlicingOptions o)
    {
        w.Write([(byte)o.Scheme]);
        U16(w, checked((ushort)o.MaxSlices));
        U16(w, checked((ushort)o.ScaleResolution));
        U16(w, checked((ushort)o.PatchSize));
        U16(w, checked((ushort)o.LongestEdge));
        U16(w, checked((ushort)o.TileSize));
        U32(w, (uint)o.TokensPerView);
        F64(w, o.Overlap);
        w.Write([o.PreserveAspect ? (byte)1 : (byte)0]);
        F64(w, o.MaxAspectRatio ?? double.NaN);
        w.Write([o.V1WholeImageAdaptSize ? (byte)1 : (byte)0]);
    }

    private static SlicingOptions ReadSlicing(ref Reader r)
    {
        byte scheme = r.U8();
        if (scheme > (byte)SliceScheme.LlavaUhdV1)
        {
            throw Invalid($"unknown slicing scheme {scheme}");
        }

        var o = new SlicingOptions
        {
            Scheme = (SliceScheme)scheme,
            MaxSlices = r.U16(),
            ScaleResolution = r.U16(),
            PatchSize = r.U16(),
            LongestEdge = r.U16(),
            TileSize = r.U16(),
            TokensPerView = (int)r.U32Max("tokens per view", 65_536),
            Overlap = r.F64(),
            PreserveAspect = r.U8() != 0,
        };
        double maxAspect = r.F64();
        o = o with { MaxAspectRatio = double.IsNaN(maxAspect) ? null : maxAspect, V1WholeImageAdaptSize = r.U8() != 0 };
        try
        {
            o.Validate();
        }
        catch (SlicingException ex)
        {
            throw Invalid($"slicing options: {ex.Message}");
        }

        return o;
    }

    private static void U16(ArrayBufferWriter<byte> w, ushort v)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(w.GetSpan(2), v);
        w.Advance(2);
    }

    private static void I16(ArrayBufferWriter<byte> w, short v)
    {
        BinaryPrimitives.WriteInt16LittleEndian(w.GetSpan(2), v);
        w.Advance(2);
    }

    private static void U32(ArrayBufferWriter<byte> w, uint v)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(w.GetSpan(4), v);
        w.Advance(4);
    }

    private static void I32(ArrayBufferWriter<byte> w, int v)
    {
        BinaryPrimitives.WriteInt32LittleEndian(w.GetSpan(4), v);
        w.Advance(4);
    }

    private static void I64(ArrayBufferWriter<byte> w, long v)
    {
        BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), v);
        w.Advance(8);
    }

    private static void F64(ArrayBufferWriter<byte> w, double v)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(w.GetSpan(8), v);
        w.Advance(8);
    }

    private static void Str(ArrayBufferWriter<byte> w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        if (bytes.Length > MaxString)
        {
            throw new TokenPacketException(TokenPacketError.InvalidHeader, $"'{s[..Math.Min(s.Length, 32)]}…' is longer than {MaxString} UTF-8 bytes.");
        }

        U16(w, (ushort)bytes.Length);
        w.Write(bytes);
    }

    /// <summary>Bounds-checked little-endian reader; running past the end is <see cref="TokenPacketError.Truncated"/>.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public readonly int Remaining => _data.Length - _pos;

        public void Skip(int n) => Bytes(n);

        public ReadOnlySpan<byte> Bytes(int n)
        {
            if (n < 0 || n > _data.Length - _pos)
            {
                throw new TokenPacketException(TokenPacketError.Truncated, string.Create(CultureInfo.InvariantCulture, $"the packet ends at byte {_data.Length} while {n} more bytes were expected at byte {_pos}."));
            }

            ReadOnlySpan<byte> s = _data.Slice(_pos, n);
            _pos += n;
            return s;
        }

        public byte U8() => Bytes(1)[0];

        public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2));

        public short I16() => BinaryPrimitives.ReadInt16LittleEndian(Bytes(2));

        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

        public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4));

        public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8));

        public double F64() => BinaryPrimitives.ReadDoubleLittleEndian(Bytes(8));

        public uint U32Max(string field, long max)
        {
            uint v = U32();
            return v <= max ? v : throw Invalid(string.Create(CultureInfo.InvariantCulture, $"{field} {v} exceeds {max}"));
        }

        public string Str(string field)
        {
            int n = U16();
            if (n > MaxString)
            {
                throw Invalid($"{field} is {n} bytes long (max {MaxString})");
            }

            ReadOnlySpan<byte> bytes = Bytes(n);
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Invalid($"{field} is not valid UTF-8");
            }
        }
    }
}
