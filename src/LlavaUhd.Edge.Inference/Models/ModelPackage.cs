using System.Security.Cryptography;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.Inference.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.Inference.Models;

/// <summary>
/// A model package on disk (the public Hugging Face layout plus <c>model.json</c>), checked: every file is present
/// and has the recorded sha256, the variant's sessions follow the family contract and the tokenizer has the special
/// tokens with the recorded ids. The same loader serves downloaded and generated packages.
/// </summary>
public sealed class ModelPackage
{
    private ModelPackage(string directory, ModelManifest manifest, string variant)
    {
        Directory = directory;
        Manifest = manifest;
        Variant = variant;
    }

    public string Directory { get; }

    public ModelManifest Manifest { get; }

    /// <summary>The selected variant (e.g. fp32, qdq-int8).</summary>
    public string Variant { get; }

    public ManifestVariant Sessions => Manifest.Variants[Variant];

    public string PathOf(string relative) => Path.Combine(Directory, relative);

    public string SessionPath(string session) => PathOf(Sessions.Sessions[session].File);

    /// <summary>Loads and checks a package; throws <see cref="ModelPackageException"/> naming the file and the mismatch.</summary>
    /// <param name="directory">The package folder.</param>
    /// <param name="variant">The variant to use; null for the manifest's default.</param>
    /// <param name="verifyHashes">Check every file's sha256 (about 1 s per GB).</param>
    public static ModelPackage Load(string directory, string? variant = null, bool verifyHashes = true)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ModelPackageException(directory, "the package folder does not exist");
        }

        string manifestPath = Path.Combine(directory, ModelManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            throw new ModelPackageException(ModelManifest.FileName, $"missing in '{directory}' (run 'llava-edge models import {directory}' first)");
        }

        ModelManifest manifest = ModelManifest.Read(manifestPath);
        IReadOnlyList<SessionContract> contracts;
        try
        {
            contracts = ModelContracts.For(manifest.Family);
        }
        catch (ArgumentException ex)
        {
            throw new ModelPackageException(ModelManifest.FileName, ex.Message, ex);
        }

        variant ??= manifest.DefaultVariant;
        if (!manifest.Variants.TryGetValue(variant, out ManifestVariant? v))
        {
            throw new ModelPackageException(ModelManifest.FileName, $"variant '{variant}' is not in the package (it has: {string.Join(", ", manifest.Variants.Keys)})");
        }

        foreach ((string file, string sha) in manifest.Files)
        {
            CheckFile(directory, file, sha, verifyHashes);
        }

        foreach (SessionContract contract in contracts)
        {
            if (!v.Sessions.TryGetValue(contract.Session, out ManifestSession? session))
            {
                throw new ModelPackageException(ModelManifest.FileName, $"variant '{variant}' has no '{contract.Session}' session, which family '{manifest.Family}' needs");
            }

            CheckFile(directory, session.File, session.Sha256, verifyHashes);
            CheckContract(session.File, contract, session.Inputs, session.Outputs, "model.json records");
        }

        CheckTokenizer(directory, manifest);
        return new ModelPackage(directory, manifest, variant);
    }

    /// <summary>Opens the variant's sessions and checks them against the manifest: names and element types of every input and output.</summary>
    public ModelSessions OpenSessions(OnnxSessionFactory factory)
    {
        var opened = new Dictionary<string, InferenceSession>(StringComparer.Ordinal);
        try
        {
            foreach ((string name, ManifestSession expected) in Sessions.Sessions)
            {
                InferenceSession session = factory.Create(PathOf(expected.File), expected.File, expected.Sha256, Providers.ShapeProfiles.For(Manifest, name), name);
                opened[name] = session;
                CheckIo(expected.File, "input", expected.Inputs, FactoryDescribe(session.InputNames, session.InputMetadata));
                CheckIo(expected.File, "output", expected.Outputs, FactoryDescribe(session.OutputNames, session.OutputMetadata));
            }

            return new ModelSessions(this, opened);
        }
        catch
        {
            foreach (InferenceSession s in opened.Values)
            {
                s.Dispose();
            }

            throw;
        }
    }

    /// <summary>Loads the package's tokenizer.</summary>
    public HfTokenizer LoadTokenizer() => HfTokenizer.Load(PathOf("tokenizer.json"));

    private static List<ManifestTensor> FactoryDescribe(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata) =>
        OnnxSessionFactory.Describe(names, metadata);

    internal static void CheckIo(string file, string kind, IReadOnlyList<ManifestTensor> expected, IReadOnlyList<ManifestTensor> actual)
    {
        var byName = expected.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (ManifestTensor a in actual)
        {
            if (!byName.TryGetValue(a.Name, out ManifestTensor? e))
            {
                throw new ModelPackageException(file, $"{kind} '{a.Name}' ({a.DType}) is not in model.json");
            }

            if (e.DType != a.DType)
            {
                throw new ModelPackageException(file, $"{kind} '{a.Name}' is {a.DType}, model.json expects {e.DType}");
            }

            if (e.Shape.Count != a.Shape.Count)
            {
                throw new ModelPackageException(file, $"{kind} '{a.Name}' has rank {a.Shape.Count}, model.json expects rank {e.Shape.Count}");
            }
        }

        var actualNames = actual.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (ManifestTensor e in expected.Where(e => !actualNames.Contains(e.Name)))
        {
            throw new ModelPackageException(file, $"model.json expects {kind} '{e.Name}', which the graph does not have");
        }
    }

    /// <summary>
    /// Checks I/O against the family contract: required names present, element types and ranks allowed, nothing
    /// unknown. Loading a package checks what <c>model.json</c> records; the model builder's importer checks the graphs.
    /// </summary>
    /// <exception cref="ModelPackageException">The I/O breaks the contract; the message says how, prefixed by <paramref name="who"/>.</exception>
    public static void CheckContract(string file, SessionContract contract, IReadOnlyList<ManifestTensor> inputs, IReadOnlyList<ManifestTensor> outputs, string who)
    {
        CheckContractSide(file, "input", contract.Inputs, inputs, who);
        CheckContractSide(file, "output", contract.Outputs, outputs, who);
        if (contract.InputForms.Count > 0)
        {
            IReadOnlyList<string>[] whole = [.. contract.InputForms.Where(f => f.All(n => inputs.Any(t => t.Name == n)))];
            IReadOnlyList<string>[] partial = [.. contract.InputForms.Where(f => f.Any(n => inputs.Any(t => t.Name == n)) && !whole.Contains(f))];
            if (whole.Length != 1 || partial.Length > 0)
            {
                throw new ModelPackageException(file, $"{who} inputs that match none of the family's forms: it needs exactly one of {string.Join(" or ", contract.InputForms.Select(f => "(" + string.Join(", ", f) + ")"))}");
            }
        }
    }

    private static void CheckContractSide(string file, string kind, IReadOnlyList<TensorContract> contract, IReadOnlyList<ManifestTensor> actual, string who)
    {
        foreach (ManifestTensor t in actual)
        {
            TensorContract? c = contract.FirstOrDefault(c => c.Matches(t.Name))
                ?? throw new ModelPackageException(file, $"{who} {kind} '{t.Name}', which the family contract does not have");
            if (!TensorDTypes.Accepts(c.DType, t.DType))
            {
                throw new ModelPackageException(file, $"{kind} '{t.Name}' is {t.DType}, the contract expects {c.DType}");
            }

            if (c.Rank != t.Shape.Count)
            {
                throw new ModelPackageException(file, $"{kind} '{t.Name}' has rank {t.Shape.Count}, the contract expects rank {c.Rank}");
            }
        }

        foreach (TensorContract c in contract.Where(c => !c.Optional && !actual.Any(t => c.Matches(t.Name))))
        {
            throw new ModelPackageException(file, $"{kind} '{c.Name}' is missing ({who} none), the family contract requires it");
        }
    }

    private static void CheckFile(string directory, string file, string sha256, bool verifyHash)
    {
        string path = Path.Combine(directory, file);
        if (!File.Exists(path))
        {
            throw new ModelPackageException(file, "missing (model.json lists it)");
        }

        if (verifyHash)
        {
            string actual = Sha256Of(path);
            if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new ModelPackageException(file, $"sha256 differs from model.json (expected {sha256}, actual {actual})");
            }
        }
    }

    private static void CheckTokenizer(string directory, ModelManifest manifest)
    {
        string path = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(path))
        {
            throw new ModelPackageException("tokenizer.json", "missing");
        }

        Dictionary<string, int> added = HfTokenizer.ReadAddedTokens(path);
        foreach ((string token, int id) in manifest.Tokens.Special)
        {
            if (!added.TryGetValue(token, out int actual))
            {
                throw new ModelPackageException("tokenizer.json", $"has no special token '{token}' (model.json expects id {id})");
            }

            if (actual != id)
            {
                throw new ModelPackageException("tokenizer.json", $"special token '{token}' has id {actual}, model.json expects {id}");
            }
        }
    }

    public static string Sha256Of(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
