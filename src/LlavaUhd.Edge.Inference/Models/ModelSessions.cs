using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.Inference.Models;

/// <summary>The open sessions of a package variant. Disposes them.</summary>
public sealed class ModelSessions : IDisposable
{
    private readonly Dictionary<string, InferenceSession> _sessions;

    internal ModelSessions(ModelPackage package, Dictionary<string, InferenceSession> sessions)
    {
        Package = package;
        _sessions = sessions;
    }

    public ModelPackage Package { get; }

    public IReadOnlyDictionary<string, InferenceSession> All => _sessions;

    public InferenceSession this[string session] => _sessions[session];

    /// <summary>Whether the session has an input (the optional <c>num_logits_to_keep</c>, <c>use_cache_branch</c>), from its metadata.</summary>
    public bool HasInput(string session, string input) => _sessions[session].InputMetadata.ContainsKey(input);

    public void Dispose()
    {
        foreach (InferenceSession s in _sessions.Values)
        {
            s.Dispose();
        }

        _sessions.Clear();
    }
}
