namespace LlavaUhd.Edge.Inference.Errors;

/// <summary>
/// A model package is missing something or does not match its <c>model.json</c>. The message always names the file
/// (relative to the package) and the mismatch, e.g. <c>onnx/vision_encoder.onnx: sha256 differs from model.json</c>.
/// </summary>
public sealed class ModelPackageException : Exception
{
    public ModelPackageException()
    {
    }

    public ModelPackageException(string message)
        : base(message)
    {
    }

    public ModelPackageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ModelPackageException(string file, string message, Exception? innerException = null)
        : base($"{file}: {message}", innerException)
    {
        File = file;
    }

    /// <summary>The file the error is about, relative to the package folder (null when it is about the folder).</summary>
    public string? File { get; }
}
