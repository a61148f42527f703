using System.Globalization;

namespace LlavaUhd.Edge.Inference.Providers;

/// <summary>
/// Which execution providers to try, in order, and how to configure each. The factory tries them in
/// <see cref="Order"/>; a provider that cannot load is skipped with one log line naming it and the reason; CPU is
/// always the last resort unless <see cref="Require"/> names another provider.
/// </summary>
public sealed class ExecutionProviderOptions
{
    public const string SectionName = "Inference:Providers";

    /// <summary>Providers in order of preference (default: tensorrt, cuda, cpu).</summary>
    public IList<string> Order { get; set; } = [ProviderNames.TensorRt, ProviderNames.Cuda, ProviderNames.Cpu];

    /// <summary>A provider that must be used: the factory refuses to create sessions without it (e.g. <c>tensorrt</c> on a Jetson).</summary>
    public string? Require { get; set; }

    public TensorRtOptions TensorRt { get; set; } = new();

    public CudaOptions Cuda { get; set; } = new();

    public CpuOptions Cpu { get; set; } = new();

    /// <summary>Every problem with these options (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Order.Count == 0)
        {
            problems.Add("Inference:Providers:Order is empty; list at least one of tensorrt, cuda, cpu.");
        }

        foreach (string p in Order)
        {
            if (!ProviderNames.All.Contains(p))
            {
                problems.Add($"Inference:Providers:Order has unknown provider '{p}'; expected tensorrt, cuda or cpu.");
            }
        }

        if (Order.Distinct().Count() != Order.Count)
        {
            problems.Add("Inference:Providers:Order lists a provider twice.");
        }

        if (Require is not null && !Order.Contains(Require))
        {
            problems.Add($"Inference:Providers:Require is '{Require}', which is not in Order ({string.Join(", ", Order)}).");
        }

        problems.AddRange(TensorRt.Problems());
        if (Cuda.DeviceId < 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:Providers:Cuda:DeviceId = {Cuda.DeviceId} must be 0 or more."));
        }

        if (!CpuArenas.All.Contains(Cpu.MemoryArena))
        {
            problems.Add($"Inference:Providers:Cpu:MemoryArena '{Cpu.MemoryArena}' is not one of {string.Join(", ", CpuArenas.All)}.");
        }

        if (!CpuSpinning.Values.Contains(Cpu.Spinning))
        {
            problems.Add($"Inference:Providers:Cpu:Spinning '{Cpu.Spinning}' is not one of {string.Join(", ", CpuSpinning.Values)}.");
        }

        if (Cpu.IntraOpThreads < 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Inference:Providers:Cpu:IntraOpThreads = {Cpu.IntraOpThreads} must be 0 (all cores) or more."));
        }

        return problems;
    }
}
