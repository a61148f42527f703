using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.Inference.Sessions;

/// <summary>
/// The process's one shared CPU arena (docs/memory.md), registered once in ONNX Runtime's environment (<see cref="OrtEnv"/>
/// is ONNX Runtime's own singleton and owns the allocator for the process's life). Sessions opt in with
/// <c>session.use_env_allocators=1</c>. The arena grows by what is requested (<c>arena_extend_strategy</c>
/// kSameAsRequested) rather than doubling, so its size follows the largest run, not the next power of two above it.
/// </summary>
internal static class SharedCpuArena
{
    /// <summary>ONNX Runtime's <c>ArenaExtendStrategy::kSameAsRequested</c>.</summary>
    private const int SameAsRequested = 1;

    private static readonly Lock s_lock = new();
    private static bool s_registered;

    public static void EnsureRegistered()
    {
        lock (s_lock)
        {
            if (s_registered)
            {
                return;
            }

            // maxMemory 0, initial chunk -1, max dead bytes -1: ONNX Runtime's defaults.
            using var info = new OrtMemoryInfo(OrtMemoryInfo.allocatorCPU, OrtAllocatorType.ArenaAllocator, 0, OrtMemType.Default);
            using var config = new OrtArenaCfg(0, SameAsRequested, -1, -1);
            OrtEnv.Instance().CreateAndRegisterAllocator(info, config);
            s_registered = true;
        }
    }
}
