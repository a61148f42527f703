using System.Reflection;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// The trained demo models' weights, embedded from <c>models-quantized/&lt;name&gt;/</c> (<c>demo-smolvlm</c>,
/// <c>demo-llava-uhd-v1</c>, <c>demo-llava-uhd-v3</c>): <c>weights.json</c>, <c>weights.bin</c> and
/// <c>weights.sha256</c> (the hash weights.bin must have). docs/demo-model.md, docs/llava-uhd.md.
/// </summary>
public static class DemoWeights
{
    /// <summary>The first demo model (SmolVLM architecture), the default model of every verb.</summary>
    public const string SmolVlm = "demo-smolvlm";

    /// <exception cref="InvalidDataException">The weights are missing from this build or damaged.</exception>
    public static TrainedWeights Load(string name = SmolVlm)
    {
        ArgumentNullException.ThrowIfNull(name);
        string Missing(string file) => $"this build has no trained weights for {name} (models-quantized/{name}/{file}; see docs/demo-model.md): pass --model with a package folder";
        byte[] json = Resource(name, "weights.json") ?? throw new InvalidDataException(Missing("weights.json"));
        byte[] bin = Resource(name, "weights.bin") ?? throw new InvalidDataException(Missing("weights.bin"));
        string? sha = Resource(name, "weights.sha256") is { } s ? System.Text.Encoding.ASCII.GetString(s).Trim().Split(' ')[0] : null;
        return TrainedWeights.Load(json, bin, sha ?? throw new InvalidDataException(Missing("weights.sha256")));
    }

    private static byte[]? Resource(string name, string file)
    {
        using Stream? stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"{name}/{file}");
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
