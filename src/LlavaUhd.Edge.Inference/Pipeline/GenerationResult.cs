using System.Diagnostics;
using System.Runtime.InteropServices;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Inference.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>The outcome of one generation.</summary>
public sealed record GenerationResult(IReadOnlyList<int> Tokens, StopReason Reason, double PrefillMs, double DecodeMs, int PromptTokens);
