using System.Diagnostics;
using System.Runtime.InteropServices;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Inference.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>Why generation ended.</summary>
public enum StopReason
{
    StopToken,
    MaxTokens,
    Cancelled,
}
