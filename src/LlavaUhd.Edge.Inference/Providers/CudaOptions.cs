namespace LlavaUhd.Edge.Inference.Providers;

public sealed class CudaOptions
{
    public int DeviceId { get; set; }
}
