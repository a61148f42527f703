using BenchmarkDotNet.Attributes;
using LlavaUhd.Edge.Core.Schema;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Benchmarks.Slicing;

/// <summary>Planning cost per call and its allocations (the plan is an immutable value, built once per region size).</summary>
[MemoryDiagnoser]
[ShortRunJob]
[MedianColumn]
public class SlicePlannerBenchmarks
{
    private readonly SlicingOptions _minicpmv = SlicingOptions.For(SliceScheme.MiniCpmV);
    private readonly SlicingOptions _idefics3 = SlicingOptions.For(SliceScheme.Idefics3);
    private readonly SlicingOptions _v1 = SlicingOptions.For(SliceScheme.LlavaUhdV1);
    private readonly SlicePlanCache _cache = new();
    private SlicePlan _plan = null!;

    [Params("1920x1080", "4032x3024", "8000x200")]
    public string Size { get; set; } = "1920x1080";

    private PixelSize _size;

    private PixelSize Parsed => _size;

    private PixelSize ParseSize() => new(int.Parse(Size.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(Size.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture));

    [GlobalSetup]
    public void Setup()
    {
        _size = ParseSize();
        _plan = SlicePlanner.Plan(_size, _minicpmv);
    }

    [Benchmark(Baseline = true)]
    public SlicePlan MiniCpmV() => SlicePlanner.Plan(Parsed, _minicpmv);

    [Benchmark]
    public SlicePlan Idefics3() => SlicePlanner.Plan(Parsed, _idefics3);

    [Benchmark]
    public SlicePlan LlavaUhdV1() => SlicePlanner.Plan(Parsed, _v1);

    [Benchmark]
    public SlicePlan MiniCpmVCached() => _cache.Get(Parsed, _minicpmv);

    [Benchmark]
    public PromptLayout Schema() => SpatialSchema.Build(_plan);
}
