using System.Security.Cryptography;
using System.Text.Json;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// Trained weights in the compact format the trainer writes (<c>weights.json</c> + <c>weights.bin</c>, docs/demo-model.md):
/// float16 tensors named as the graphs' initializers, Linear weights [in, out]; a sparse tensor stores only the
/// listed ids along one axis (the rest is zero). <see cref="GraphBuilder"/>s built with these weights take every
/// named parameter from here instead of the seeded random ones, and every stored tensor must be taken exactly once.
/// </summary>
public sealed class TrainedWeights
{
    private readonly Dictionary<string, Entry> _tensors;
    private readonly byte[] _data;
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    private TrainedWeights(Dictionary<string, Entry> tensors, byte[] data, JsonElement preset, string sha256)
    {
        _tensors = tensors;
        _data = data;
        Preset = preset;
        Sha256 = sha256;
    }

    /// <summary>The <c>preset</c> object of weights.json: the dimensions the weights were trained with.</summary>
    public JsonElement Preset { get; }

    /// <summary>sha256 of weights.bin (lower-case hex).</summary>
    public string Sha256 { get; }

    public IReadOnlyCollection<string> Names => _tensors.Keys;

    /// <summary>Reads weights.json and weights.bin; <paramref name="expectedSha256"/>, when given, must match weights.bin.</summary>
    /// <exception cref="InvalidDataException">Missing or inconsistent files, or a hash that differs.</exception>
    public static TrainedWeights Load(byte[] json, byte[] bin, string? expectedSha256 = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(bin);
        string sha = Convert.ToHexStringLower(SHA256.HashData(bin));
        if (expectedSha256 is not null && !string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"weights.bin has sha256 {sha}; expected {expectedSha256}: the trained weights are damaged");
        }

        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        if (!root.TryGetProperty("format", out JsonElement format) || format.GetInt32() != 1)
        {
            throw new InvalidDataException("weights.json: unsupported or missing 'format' (expected 1)");
        }

        var tensors = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (JsonElement t in root.GetProperty("tensors").EnumerateArray())
        {
            string name = t.GetProperty("name").GetString()!;
            long[] shape = [.. t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())];
            if (t.GetProperty("dtype").GetString() != "float16")
            {
                throw new InvalidDataException($"weights.json: {name} is not float16");
            }

            long offset = t.GetProperty("offset").GetInt64();
            long length = t.GetProperty("length").GetInt64();
            int axis = -1;
            int[] ids = [];
            if (t.TryGetProperty("sparse", out JsonElement sparse) && sparse.ValueKind == JsonValueKind.Object)
            {
                axis = sparse.GetProperty("axis").GetInt32();
                ids = [.. sparse.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32())];
            }

            long expected = shape.Aggregate(1L, (a, b) => a * b);
            if (axis >= 0)
            {
                expected = expected / shape[axis] * ids.Length;
            }

            if (length != expected || offset < 0 || offset + (2 * length) > bin.Length)
            {
                throw new InvalidDataException($"weights.json: {name} holds {length} values at byte {offset}; its shape needs {expected} within {bin.Length} bytes");
            }

            tensors.Add(name, new Entry(shape, offset, length, axis, ids));
        }

        return new TrainedWeights(tensors, bin, root.GetProperty("preset").Clone(), sha);
    }

    /// <summary>Reads <c>weights.json</c> and <c>weights.bin</c> from a folder.</summary>
    public static TrainedWeights Load(string directory, string? expectedSha256 = null) =>
        Load(File.ReadAllBytes(Path.Combine(directory, "weights.json")), File.ReadAllBytes(Path.Combine(directory, "weights.bin")), expectedSha256);

    /// <summary>The dense float32 values of <paramref name="name"/> when stored (sparse tensors expanded with zeros).</summary>
    /// <exception cref="InvalidDataException">The stored shape differs from <paramref name="dims"/>.</exception>
    public bool TryTake(string name, ReadOnlySpan<long> dims, out float[] values)
    {
        if (!_tensors.TryGetValue(name, out Entry? e))
        {
            values = [];
            return false;
        }

        if (!e.Shape.AsSpan().SequenceEqual(dims))
        {
            throw new InvalidDataException($"trained tensor {name} is [{string.Join(", ", e.Shape)}]; the graph needs [{string.Join(", ", dims.ToArray())}]");
        }

        ReadOnlySpan<Half> stored = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(_data.AsSpan((int)e.Offset, (int)(2 * e.Length)));
        long n = e.Shape.Aggregate(1L, (a, b) => a * b);
        values = new float[n];
        if (e.Axis < 0)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)stored[i];
            }
        }
        else if (e.Axis == 0 && e.Shape.Length == 2)
        {
            long cols = e.Shape[1];
            for (int r = 0; r < e.Ids.Length; r++)
            {
                for (long c = 0; c < cols; c++)
                {
                    values[(e.Ids[r] * cols) + c] = (float)stored[(int)((r * cols) + c)];
                }
            }
        }
        else if (e.Axis == 1 && e.Shape.Length == 2)
        {
            long cols = e.Shape[1];
            int k = e.Ids.Length;
            for (long r = 0; r < e.Shape[0]; r++)
            {
                for (int j = 0; j < k; j++)
                {
                    values[(r * cols) + e.Ids[j]] = (float)stored[(int)((r * k) + j)];
                }
            }
        }
        else
        {
            throw new InvalidDataException($"trained tensor {name}: sparse axis {e.Axis} of a rank-{e.Shape.Length} tensor is not supported");
        }

        _taken.Add(name);
        return true;
    }

    /// <summary>Stored tensors no graph has taken (a name the graphs do not have: the export and the builder disagree).</summary>
    public IReadOnlyList<string> Untaken() => [.. _tensors.Keys.Where(k => !_taken.Contains(k)).Order(StringComparer.Ordinal)];

    private sealed record Entry(long[] Shape, long Offset, long Length, int Axis, int[] Ids);
}
