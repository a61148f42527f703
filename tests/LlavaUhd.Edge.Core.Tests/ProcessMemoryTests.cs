using LlavaUhd.Edge.Core.Diagnostics;

namespace LlavaUhd.Edge.Core.Tests;

public sealed class ProcessMemoryTests
{
    [Fact]
    public void Read_GivesResidentMemory_AndAPeakAtLeastAsLarge()
    {
        ProcessMemory m = ProcessMemory.Read();

        Assert.True(m.RssBytes > 1 << 20, $"RSS {m.RssBytes} B");
        Assert.True(m.PeakRssBytes >= m.RssBytes);
    }

    [Fact]
    public void Peak_FollowsATouchedBuffer_AndRestartsWhereTheKernelAllowsIt()
    {
        const int size = 64 << 20;
        long before = ProcessMemory.Read().PeakRssBytes;
        byte[] buffer = GC.AllocateUninitializedArray<byte>(size);
        for (int i = 0; i < buffer.Length; i += 4096)
        {
            buffer[i] = 1;
        }

        ProcessMemory touched = ProcessMemory.Read();
        GC.KeepAlive(buffer);
        Assert.True(touched.PeakRssBytes >= before);
        Assert.True(touched.PeakRssBytes >= touched.RssBytes);

        if (ProcessMemory.TryResetPeak())
        {
            ProcessMemory reset = ProcessMemory.Read();
            Assert.True(reset.PeakRssBytes >= reset.RssBytes);
        }
    }
}
