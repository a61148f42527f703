using LlavaUhd.Edge.ModelBuilder.Generation;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>Generates the tiny packages once per test run (into a temp folder) and shares them between test classes.</summary>
public sealed class GeneratedPackages : IDisposable
{
    private readonly Lazy<string> _smol;
    private readonly Lazy<string> _minicpmv;
    private readonly Lazy<string> _llavaUhd;
    private readonly Lazy<string> _llavaUhdV3;

    public GeneratedPackages()
    {
        Root = Path.Combine(Path.GetTempPath(), "llava-edge-tests", Guid.NewGuid().ToString("N"));
        _smol = new Lazy<string>(() => Generate(ModelPreset.TinySmolVlm));
        _minicpmv = new Lazy<string>(() => Generate(ModelPreset.TinyMiniCpmV));
        _llavaUhd = new Lazy<string>(() => Generate(ModelPreset.TinyLlavaUhd));
        _llavaUhdV3 = new Lazy<string>(() => Generate(ModelPreset.TinyLlavaUhdV3));
    }

    public string Root { get; }

    public string SmolVlm => _smol.Value;

    public string MiniCpmV => _minicpmv.Value;

    public string LlavaUhd => _llavaUhd.Value;

    public string Get(string preset) => preset switch
    {
        ModelPreset.TinySmolVlm => SmolVlm,
        ModelPreset.TinyLlavaUhd => LlavaUhd,
        ModelPreset.TinyLlavaUhdV3 => _llavaUhdV3.Value,
        _ => MiniCpmV,
    };

    /// <summary>A private copy a test may tamper with.</summary>
    public string CopyOf(string preset)
    {
        string source = Get(preset);
        string target = Path.Combine(Root, "copy-" + Guid.NewGuid().ToString("N"));
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return target;
    }

    private string Generate(string preset)
    {
        string dir = Path.Combine(Root, preset);
        PackageGenerator.Generate(ModelPreset.Get(preset), dir, seed: 7);
        return dir;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GeneratedPackagesCollection : ICollectionFixture<GeneratedPackages>
{
    public const string Name = "generated packages";
}
