using System.Reflection;

namespace LlavaUhd.Edge.ModelBuilder.Generation;

/// <summary>
/// The trained demo model's weights, embedded from <c>models-quantized/demo-smolvlm/</c>: <c>weights.json</c>,
/// <c>weights.bin</c> and <c>weights.sha256</c> (the hash weights.bin must have).
/// </summary>
public static class DemoWeights
{
    /// <summary>Whether this build carries the demo weights.</summary>
    public static bool Available => Resource("weights.bin") is not null;

    /// <exception cref="InvalidDataException">The weights are missing from this build or damaged.</exception>
    public static TrainedWeights Load()
    {
        byte[] json = Resource("weights.json") ?? throw new InvalidDataException("this build has no trained demo-model weights (models-quantized/demo-smolvlm/weights.json; see docs/demo-model.md): pass --model with a package folder");
        byte[] bin = Resource("weights.bin") ?? throw new InvalidDataException("this build has no trained demo-model weights (models-quantized/demo-smolvlm/weights.bin; see docs/demo-model.md): pass --model with a package folder");
        string? sha = Resource("weights.sha256") is { } s ? System.Text.Encoding.ASCII.GetString(s).Trim().Split(' ')[0] : null;
        return TrainedWeights.Load(json, bin, sha ?? throw new InvalidDataException("this build has no models-quantized/demo-smolvlm/weights.sha256"));
    }

    private static byte[]? Resource(string file)
    {
        using Stream? stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"demo-smolvlm/{file}");
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
