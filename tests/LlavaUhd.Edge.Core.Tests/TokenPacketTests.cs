using System.Collections.Immutable;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Core.Tokens;

namespace LlavaUhd.Edge.Core.Tests;

public sealed class TokenPacketTests
{
    private static readonly EncoderIdentity s_encoder = new("tiny-smolvlm", [.. Enumerable.Range(0, 32).Select(i => (byte)(i * 7))]);

    private static TokenPacket Packet(int width = 32, int seed = 1, SliceScheme scheme = SliceScheme.Idefics3, int w = 1280, int h = 720)
    {
        SlicingOptions options = SlicingOptions.For(scheme) with { TokensPerView = 8 };
        SlicePlan plan = SlicePlanner.Plan(w, h, options);
        var rng = new Random(seed);
        float[] features = new float[plan.TotalTokens * width];
        for (int i = 0; i < features.Length; i++)
        {
            features[i] = (float)((rng.NextDouble() * 4) - 2) * (1 + (i % width) / 8f);
        }

        var source = new PacketSource("dock-1", new PixelRect(10, 20, w, h), new DateTimeOffset(2026, 11, 26, 8, 0, 0, 123, TimeSpan.Zero), 4242);
        return new TokenPacket(s_encoder, options, new PixelSize(w, h), TokenPacket.ViewsOf(plan), source, width, features);
    }

    [Theory]
    [InlineData(TokenDType.Float32, false)]
    [InlineData(TokenDType.Float16, false)]
    [InlineData(TokenDType.Int8, false)]
    [InlineData(TokenDType.Int8, true)]
    [InlineData(TokenDType.Float32, true)]
    public void RoundTrip_KeepsHeader_AndFeaturesWithinTheDTypesPrecision(TokenDType dtype, bool brotli)
    {
        TokenPacket original = Packet();

        byte[] bytes = TokenPacketCodec.Encode(original, dtype, brotli);
        TokenPacket read = TokenPacketCodec.Decode(bytes);

        Assert.True(read.Encoder.Matches(s_encoder));
        Assert.Equal(original.Slicing, read.Slicing);
        Assert.Equal(original.Views.AsEnumerable(), read.Views.AsEnumerable());
        Assert.Equal(original.Source, read.Source);
        Assert.Equal(dtype, read.WireDType);
        Assert.Equal(brotli, read.WireBrotli);
        double cosine = VectorMath.Cosine(original.Features, read.Features);
        if (dtype == TokenDType.Float32)
        {
            Assert.Equal(original.Features, read.Features);
        }
        else
        {
            Assert.True(cosine >= 0.99, $"cosine {cosine}");
        }

        Assert.Equal(13, TokenPacketCodec.Verify(read, s_encoder).Views.Length);
    }

    [Fact]
    public void Sizes_ShrinkWithTheDType()
    {
        TokenPacket p = Packet(width: 64);
        int fp32 = TokenPacketCodec.Encode(p, TokenDType.Float32, false).Length;
        int fp16 = TokenPacketCodec.Encode(p, TokenDType.Float16, false).Length;
        int int8 = TokenPacketCodec.Encode(p, TokenDType.Int8, false).Length;

        Assert.InRange(fp16 / (double)fp32, 0.45, 0.55);
        Assert.InRange(int8 / (double)fp32, 0.22, 0.32);
    }

    [Fact]
    public void OtherEncoder_IsRefused()
    {
        TokenPacket read = TokenPacketCodec.Decode(TokenPacketCodec.Encode(Packet(), TokenDType.Float16, false));
        var other = new EncoderIdentity("tiny-smolvlm", [.. new byte[32]]);

        var ex = Assert.Throws<TokenPacketException>(() => TokenPacketCodec.Verify(read, other));

        Assert.Equal(TokenPacketError.EncoderMismatch, ex.Error);
    }

    [Fact]
    public void PlanThatExceedsTheCap_IsAClearError()
    {
        var ex = Assert.Throws<TokenPacketException>(() => TokenPacketCodec.Encode(Packet(width: 576), TokenDType.Float32, false, maxBytes: 64 * 1024));

        Assert.Equal(TokenPacketError.TooLarge, ex.Error);
        Assert.Contains("use int8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SpecificErrors_ForSpecificDamage()
    {
        byte[] good = TokenPacketCodec.Encode(Packet(), TokenDType.Int8, false);

        Assert.Equal(TokenPacketError.Truncated, Assert.Throws<TokenPacketException>(() => TokenPacketCodec.Decode(good.AsSpan(0, 5))).Error);
        byte[] magic = (byte[])good.Clone();
        magic[0] = (byte)'X';
        Assert.Equal(TokenPacketError.BadMagic, Assert.Throws<TokenPacketException>(() => TokenPacketCodec.Decode(magic)).Error);
        byte[] flipped = (byte[])good.Clone();
        flipped[good.Length / 2] ^= 0x10;
        Assert.Equal(TokenPacketError.ChecksumMismatch, Assert.Throws<TokenPacketException>(() => TokenPacketCodec.Decode(flipped)).Error);
        byte[] version = (byte[])good.Clone();
        version[4] = 9;
        Assert.Equal(TokenPacketError.UnsupportedVersion, Assert.Throws<TokenPacketException>(() => TokenPacketCodec.Decode(version)).Error);
    }

    [Fact]
    public void Crc32C_MatchesTheStandardCheckValue_AndABitwiseReference()
    {
        byte[] check = "123456789"u8.ToArray();

        Assert.Equal(0xE3069283u, Crc32C.Compute(check));
        Assert.Equal(0xE3069283u, BitwiseCrc32C(check));
        byte[] random = new byte[1001];
        new Random(3).NextBytes(random);
        for (int length = 0; length <= 17; length++)
        {
            Assert.Equal(BitwiseCrc32C(random.AsSpan(0, length)), Crc32C.Compute(random.AsSpan(0, length)));
        }

        Assert.Equal(BitwiseCrc32C(random), Crc32C.Compute(random));
        Assert.Equal(BitwiseCrc32C(random.AsSpan(3)), Crc32C.Compute(random.AsSpan(3)));
    }

    /// <summary>CRC-32C from its definition, a bit at a time (reflected polynomial 0x82F63B78): the reference the platform path is checked against.</summary>
    private static uint BitwiseCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }

    /// <summary>
    /// 100 000 hostile packets — truncations, bit flips, byte overwrites and random bytes, with the checksum
    /// re-sealed half of the time so the structural checks behind it are reached — never crash, hang or throw
    /// anything but a <see cref="TokenPacketException"/>.
    /// </summary>
    [Fact]
    public void Fuzz_HundredThousandHostilePackets_EachGetsASpecificError()
    {
        var rng = new Random(20261126);
        byte[][] seeds =
        [
            TokenPacketCodec.Encode(Packet(width: 8, w: 640, h: 480), TokenDType.Int8, false),
            TokenPacketCodec.Encode(Packet(width: 8, w: 640, h: 480, scheme: SliceScheme.MiniCpmV), TokenDType.Float16, true),
            TokenPacketCodec.Encode(Packet(width: 4, w: 300, h: 200, scheme: SliceScheme.LlavaUhdV1), TokenDType.Float32, false),
        ];
        var errors = new Dictionary<TokenPacketError, int>();
        int accepted = 0;
        for (int i = 0; i < 100_000; i++)
        {
            byte[] seed = seeds[i % seeds.Length];
            byte[] bytes = Mutate(seed, rng);
            if (rng.Next(2) == 0 && bytes.Length >= 8)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
            }

            try
            {
                TokenPacketCodec.Decode(bytes);
                accepted++;
            }
            catch (TokenPacketException ex)
            {
                errors[ex.Error] = errors.GetValueOrDefault(ex.Error) + 1;
            }
        }

        Assert.True(errors.Count >= 6, "expected many different errors: " + string.Join(", ", errors.Select(e => $"{e.Key}={e.Value}")));
        Assert.True(errors.Values.Sum() + accepted == 100_000);
    }

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        switch (rng.Next(5))
        {
            case 0:
                return seed.AsSpan(0, rng.Next(seed.Length)).ToArray();
            case 1:
            {
                byte[] b = (byte[])seed.Clone();
                for (int k = rng.Next(1, 4); k > 0; k--)
                {
                    b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                }

                return b;
            }

            case 2:
            {
                byte[] b = (byte[])seed.Clone();
                int at = rng.Next(Math.Min(b.Length, 200));
                b[at] = (byte)rng.Next(256);
                return b;
            }

            case 3:
            {
                byte[] b = new byte[rng.Next(0, 400)];
                rng.NextBytes(b);
                if (b.Length >= 6 && rng.Next(2) == 0)
                {
                    "LUTK"u8.CopyTo(b);
                    b[4] = 1;
                    b[5] = 0;
                }

                return b;
            }

            default:
            {
                byte[] b = new byte[seed.Length + rng.Next(1, 16)];
                seed.CopyTo(b, 0);
                return b;
            }
        }
    }
    [Fact]
    public void Fuzz_MutatedPackets_GetASpecificError_NeverAnotherException()
    {
        // a seeded mutation loop: flipped bytes, truncations, extensions, overwritten header words, in every encoding
        byte[][] seeds =
        [
            TokenPacketCodec.Encode(Packet(), TokenDType.Float32, false),
            TokenPacketCodec.Encode(Packet(width: 16, seed: 3), TokenDType.Float16, true),
            TokenPacketCodec.Encode(Packet(width: 24, seed: 5, scheme: SliceScheme.MiniCpmV), TokenDType.Int8, false),
        ];
        var rng = new Random(2026);
        var errors = new HashSet<TokenPacketError>();
        int decoded = 0;
        for (int i = 0; i < 3000; i++)
        {
            byte[] original = seeds[i % seeds.Length];
            byte[] data = (byte[])original.Clone();
            switch (rng.Next(4))
            {
                case 0:
                    for (int k = 1 + rng.Next(8); k > 0; k--)
                    {
                        data[rng.Next(data.Length)] ^= (byte)(1 + rng.Next(255));
                    }

                    break;
                case 1:
                    data = data[..rng.Next(data.Length)];
                    break;
                case 2:
                    data = [.. data, .. Enumerable.Range(0, 1 + rng.Next(64)).Select(_ => (byte)rng.Next(256))];
                    break;
                default:
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(rng.Next(Math.Min(64, data.Length - 4))), (uint)rng.Next());
                    break;
            }

            try
            {
                TokenPacketCodec.Decode(data);
                decoded++;
                Assert.Equal(original, data);   // only an unchanged packet reads back (a no-op mutation)
            }
            catch (TokenPacketException ex)
            {
                Assert.True(Enum.IsDefined(ex.Error), ex.Message);
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                errors.Add(ex.Error);
            }
        }

        Assert.True(errors.Count >= 3, "errors seen: " + string.Join(", ", errors));
        Assert.True(decoded < 30, $"{decoded} mutated packets read back");
    }
}

public sealed class TokenPacketLengthTests
{
    [Fact]
    public void TruncatedPacket_SaysTruncated_AndTrailingBytesAreRefused()
    {
        var encoder = new EncoderIdentity("m", [.. new byte[32]]);
        SlicePlan plan = SlicePlanner.Plan(100, 100, SlicingOptions.For(SliceScheme.MiniCpmV) with { TokensPerView = 2 });
        var packet = new TokenPacket(encoder, plan.Options, new PixelSize(100, 100), TokenPacket.ViewsOf(plan), new PacketSource("c", new PixelRect(0, 0, 100, 100), DateTimeOffset.UnixEpoch, 1), 4, new float[plan.TotalTokens * 4]);
        byte[] bytes = TokenPacketCodec.Encode(packet, TokenDType.Float32, false);

        var truncated = Assert.Throws<TokenPacketException>(() => TokenPacketCodec.Decode(bytes.AsSpan(0, bytes.Length - 7)));
        Assert.Equal(TokenPacketError.Truncated, truncated.Error);
        Assert.Contains($"says it is {bytes.Length} bytes long", truncated.Message, StringComparison.Ordinal);

        byte[] longer = [.. bytes, 0, 0];
        Assert.Equal(TokenPacketError.PayloadSizeMismatch, Assert.Throws<TokenPacketException>(() => TokenPacketCodec.Decode(longer)).Error);
    }

}
