namespace LlavaUhd.Edge.Inference.Providers;

public sealed class CpuOptions
{
    /// <summary>Threads inside one operator (0 = one per core).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>disable, basic, extended or all.</summary>
    public string OptimizationLevel { get; set; } = "all";

    /// <summary>When set, each session's optimised graph is saved here (faster later starts, inspectable).</summary>
    public string? OptimizedModelDir { get; set; }
}
