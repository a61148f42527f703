using System.Collections.Concurrent;
using System.Diagnostics;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlavaUhd.Edge.Inference.Sessions;

/// <summary>What happened when a session was created: the provider it runs on, the providers skipped and why, build time.</summary>
public sealed record SessionStatus(
    string Session,
    string Provider,
    string State,
    DateTimeOffset Since,
    TimeSpan? Elapsed,
    IReadOnlyList<string> Fallbacks)
{
    public const string Building = "building";
    public const string Ready = "ready";
}
