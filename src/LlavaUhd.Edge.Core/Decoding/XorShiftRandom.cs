namespace LlavaUhd.Edge.Core.Decoding;

/// <summary>
/// xorshift64* seeded through splitmix64: a tiny generator whose sequence is fixed by this code, not by a runtime
/// version, so a seed reproduces the same sampled answer everywhere.
/// </summary>
public sealed class XorShiftRandom
{
    private ulong _state;

    public XorShiftRandom(ulong seed) => Reseed(seed);

    public void Reseed(ulong seed)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        _state = (z ^ (z >> 31)) | 1UL;
    }

    public ulong NextUInt64()
    {
        ulong x = _state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        _state = x;
        return x * 0x2545F4914F6CDD1DUL;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
