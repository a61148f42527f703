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

/// <summary>A TensorRT optimisation profile: <c>name:d0xd1x…</c> lists for the smallest, typical and largest shapes.</summary>
public sealed record ShapeProfile(string Min, string Opt, string Max);
