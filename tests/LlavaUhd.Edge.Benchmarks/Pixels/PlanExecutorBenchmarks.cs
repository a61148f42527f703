using BenchmarkDotNet.Attributes;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Benchmarks.Pixels;

/// <summary>
/// A BGR frame → the encoder's tensors (Pillow-exact resizes + fused normalisation), all cores. Pillow + numpy
/// reference on the dev machine: 4K → MiniCPM-V ≈ 126 ms, → SmolVLM ≈ 189 ms (tools/golden/time_pillow.py).
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class PlanExecutorBenchmarks
{
    private PlanExecutor _executor = null!;
    private ViewBatch _minicpmvBatch = null!;
    private ViewBatch _smolvlmBatch = null!;
    private SlicePlan _minicpmv = null!;
    private SlicePlan _smolvlm = null!;
    private byte[] _frame = [];

    [Params("3840x2160", "1920x1080")]
    public string Size { get; set; } = "3840x2160";

    private ImageView Frame
    {
        get
        {
            string[] p = Size.Split('x');
            return ImageView.Packed(_frame, int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture), PixelFormat.Bgr24);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        string[] p = Size.Split('x');
        int w = int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), h = int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture);
        _frame = new byte[w * h * 3];
        for (int i = 0; i < _frame.Length; i++)
        {
            _frame[i] = (byte)((i * 7) ^ (i >> 11));
        }

        _executor = new PlanExecutor();
        _minicpmvBatch = new ViewBatch();
        _smolvlmBatch = new ViewBatch(TensorLayout.PaddedBatch);
        _minicpmv = SlicePlanner.Plan(new PixelSize(w, h), SlicingOptions.For(SliceScheme.MiniCpmV));
        _smolvlm = SlicePlanner.Plan(new PixelSize(w, h), SlicingOptions.For(SliceScheme.Idefics3));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _executor.Dispose();
        _minicpmvBatch.Dispose();
        _smolvlmBatch.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int MiniCpmV()
    {
        _executor.Execute(_minicpmv, Frame, _minicpmvBatch);
        return _minicpmvBatch.Count;
    }

    [Benchmark]
    public int SmolVlm()
    {
        _executor.Execute(_smolvlm, Frame, _smolvlmBatch);
        return _smolvlmBatch.Count;
    }
}
