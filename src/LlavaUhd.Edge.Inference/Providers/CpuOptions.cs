namespace LlavaUhd.Edge.Inference.Providers;

public sealed class CpuOptions
{
    /// <summary>
    /// Threads inside one operator. 0 = one per processor this process may use (<see cref="Environment.ProcessorCount"/>,
    /// which follows the container's CPU quota and the process's affinity), passed to ONNX Runtime as an explicit
    /// count: left at its own default, ONNX Runtime pins its workers to cores, which decoded 1.1–1.6× slower on a
    /// 2-core virtual machine (docs/cpu-decoder.md, "Threads").
    /// </summary>
    public int IntraOpThreads { get; set; }

    /// <summary>disable, basic, extended or all.</summary>
    public string OptimizationLevel { get; set; } = "all";

    /// <summary>When set, each session's optimised graph is saved here (faster later starts, inspectable).</summary>
    public string? OptimizedModelDir { get; set; }

    /// <summary>
    /// When set, ONNX Runtime profiles every session run and writes one Chrome-trace JSON per session here
    /// (<c>SessionOptions.EnableProfiling</c>): each operator's time, for finding where a decode step goes
    /// (docs/cpu-decoder.md, "Where a token's time goes"). Profiling costs time itself; leave it off in service.
    /// </summary>
    public string? ProfileDir { get; set; }

    /// <summary>
    /// ONNX Runtime's CPU memory arena (docs/memory.md): <c>shared</c> (the default) = one arena for every session of
    /// the process, registered in ONNX Runtime's environment and growing only by what is requested (the encoder's
    /// activations and the decoder's prefill reuse the same memory); <c>session</c> = an arena per session, growing in
    /// powers of two (ONNX Runtime's default); <c>off</c> = plain malloc (RSS then depends on the C library's reuse).
    /// </summary>
    public string MemoryArena { get; set; } = CpuArenas.Shared;

    /// <summary>
    /// ONNX Runtime's memory pattern (<c>SessionOptions.EnableMemoryPattern</c>): one block per run, planned for the
    /// input shape and cached per shape. Off by default: with the shared arena each tensor is allocated when it is
    /// produced and freed after its last use, which peaked ~110 MB lower for a 1080p frame (docs/memory.md).
    /// </summary>
    public bool MemoryPattern { get; set; }

    /// <summary>
    /// Let kernels repack constant weights at load (off sets <c>session.disable_prepacking</c>): faster integer and
    /// float GEMMs at the price of a packed copy of each weight (docs/memory.md).
    /// </summary>
    public bool Prepacking { get; set; } = true;

    /// <summary>
    /// Whose intra-op threads spin while they wait for the next operator (<c>session.intra_op.allow_spinning</c>):
    /// <c>off</c> (the service's default) = none; <c>decoder</c> = the decoder's only — a generated token runs hundreds
    /// of small operators, and a thread that sleeps between them costs a wake-up each (decode 1.3–1.4× faster after a
    /// short prompt, the CLI's default); <c>all</c>. Spinning threads take the cores the cameras, the broker and the reply path share, so
    /// the service does not spin unless told to (docs/cpu-decoder.md, "Spinning").
    /// </summary>
    public string Spinning { get; set; } = CpuSpinning.Off;
}
