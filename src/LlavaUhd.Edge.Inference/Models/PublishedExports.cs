using System.Globalization;
using System.Reflection;
using LlavaUhd.Edge.Inference.Errors;

namespace LlavaUhd.Edge.Inference.Models;

/// <summary>
/// The public exports the importer knows file by file (size and sha256 of every published file, embedded from
/// <c>models-quantized/*/</c>). A package whose <c>config.json</c> is byte-identical to an export's is that export:
/// every file it has under a published name must then be the published bytes, or the download is damaged.
/// Any other package (generated, fine-tuned, converted elsewhere) is only told which of its files match a published
/// file by content. See docs/model-packages.md.
/// </summary>
public sealed class PublishedExports
{
    private readonly List<PublishedFile> _files;

    private PublishedExports(List<PublishedFile> files) => _files = files;

    /// <summary>The exports embedded in this assembly.</summary>
    public static PublishedExports Embedded { get; } = LoadEmbedded();

    public IReadOnlyList<PublishedFile> Files => _files;

    /// <summary>A list of published files other than the embedded ones (e.g. a private model registry's).</summary>
    public static PublishedExports From(IEnumerable<PublishedFile> files) => new([.. files]);

    /// <summary>Parses a <c>file size_bytes sha256</c> TSV (with header) of <paramref name="repository"/>.</summary>
    public static IEnumerable<PublishedFile> ParseTsv(string repository, TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string? header = reader.ReadLine();
        if (header is null || !header.StartsWith("file\t", StringComparison.Ordinal))
        {
            throw new FormatException($"published file list of {repository} has no 'file size_bytes sha256' header");
        }

        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            if (line.Length == 0)
            {
                continue;
            }

            string[] cols = line.Split('\t');
            if (cols.Length != 3)
            {
                throw new FormatException($"published file list of {repository}: malformed line '{line}'");
            }

            yield return new PublishedFile(repository, cols[0], long.Parse(cols[1], CultureInfo.InvariantCulture), cols[2].ToLowerInvariant());
        }
    }

    /// <summary>The export whose published <c>config.json</c> is exactly the package's, or null.</summary>
    public string? ExportOf(string packageDirectory)
    {
        string config = System.IO.Path.Combine(packageDirectory, "config.json");
        if (!File.Exists(config))
        {
            return null;
        }

        long size = new FileInfo(config).Length;
        string? sha = null;
        foreach (PublishedFile f in _files.Where(f => f.Path == "config.json" && f.Bytes == size))
        {
            sha ??= ModelPackage.Sha256Of(config);
            if (f.Sha256 == sha)
            {
                return f.Repository;
            }
        }

        return null;
    }

    /// <summary>
    /// For each file of the package under <c>onnx/</c>: the published file it is (by content), or null. When the package
    /// is a known export, a file under a published name whose bytes differ is refused.
    /// </summary>
    /// <exception cref="ModelPackageException">A known export's file is not the published one.</exception>
    public SortedDictionary<string, string?> Identify(string packageDirectory)
    {
        ArgumentNullException.ThrowIfNull(packageDirectory);
        string? export = ExportOf(packageDirectory);
        var result = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        string onnx = System.IO.Path.Combine(packageDirectory, "onnx");
        var candidates = Directory.Exists(onnx)
            ? Directory.EnumerateFiles(onnx, "*.onnx").Select(f => "onnx/" + System.IO.Path.GetFileName(f)).ToList()
            : [];
        if (export is not null)
        {
            // The metadata files of a known export are checked too (a damaged tokenizer.json changes every prompt).
            candidates.AddRange(_files.Where(f => f.Repository == export && !f.Path.Contains('/', StringComparison.Ordinal) && !f.Path.EndsWith(".safetensors", StringComparison.Ordinal))
                .Select(f => f.Path)
                .Where(p => File.Exists(System.IO.Path.Combine(packageDirectory, p))));
        }

        foreach (string relative in candidates.Order(StringComparer.Ordinal))
        {
            string path = System.IO.Path.Combine(packageDirectory, relative);
            long size = new FileInfo(path).Length;
            string? sha = null;
            PublishedFile? match = null;
            foreach (PublishedFile f in _files.Where(f => f.Bytes == size))
            {
                sha ??= ModelPackage.Sha256Of(path);
                if (f.Sha256 == sha)
                {
                    // Prefer the entry with the same name (several published names can share one content).
                    if (match is null || (f.Path == relative && match.Path != relative))
                    {
                        match = f;
                    }
                }
            }

            PublishedFile? sameName = export is null ? null : _files.FirstOrDefault(f => f.Repository == export && f.Path == relative);
            if (sameName is not null && (match is null || match.Sha256 != sameName.Sha256))
            {
                string found = sha is null ? $"{size} bytes" : $"{size} bytes, sha256 {sha}";
                throw new ModelPackageException(relative,
                    $"this package is {export}, whose published '{relative}' is {sameName.Bytes} bytes with sha256 {sameName.Sha256}; this file is {found}. It is damaged or from another model: download it again.");
            }

            if (relative.StartsWith("onnx/", StringComparison.Ordinal))
            {
                result[relative] = match?.ToString();
            }
        }

        return result;
    }

    private static PublishedExports LoadEmbedded()
    {
        var files = new List<PublishedFile>();
        Assembly assembly = typeof(PublishedExports).Assembly;
        foreach (string name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("published/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            // published/<owner>/<repo>/<list>.tsv
            string[] parts = name.Split('/');
            string repository = parts[1] + "/" + parts[2];
            using Stream stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            files.AddRange(ParseTsv(repository, reader));
        }

        return new PublishedExports(files);
    }
}
