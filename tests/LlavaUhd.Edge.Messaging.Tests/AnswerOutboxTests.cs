using System.Text;
using LlavaUhd.Edge.Messaging.Errors;
using LlavaUhd.Edge.Messaging.Options;
using LlavaUhd.Edge.Messaging.Outbox;

namespace LlavaUhd.Edge.Messaging.Tests;

public sealed class AnswerOutboxTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("llava-outbox-unit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private OutboxOptions Options(OutboxFsync fsync = OutboxFsync.Never, long maxBytes = 1 << 20, OutboxFullPolicy full = OutboxFullPolicy.Reject) => new()
    {
        Directory = _dir,
        SegmentBytes = 4096,
        MaxBytes = maxBytes,
        Fsync = fsync,
        FsyncIntervalMs = 20,
        WhenFull = full,
    };

    private static OutboxMessage Msg(int i, int size = 100) =>
        new($"t/{i}", Encoding.UTF8.GetBytes(i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture).PadRight(size, '.')), i % 2 == 0 ? new byte[] { (byte)i, 1 } : default);

    private static int Number(OutboxEntry e) => int.Parse(Encoding.UTF8.GetString(e.Message.Payload.Span)[..6], System.Globalization.CultureInfo.InvariantCulture);

    private static List<int> DrainAll(AnswerOutbox outbox)
    {
        var got = new List<int>();
        while (outbox.TryPeek(out OutboxEntry e))
        {
            got.Add(Number(e));
            Assert.True(outbox.Acknowledge(e.Sequence));
        }

        return got;
    }

    [Theory]
    [InlineData(OutboxFsync.Always)]
    [InlineData(OutboxFsync.Interval)]
    [InlineData(OutboxFsync.Never)]
    public void Append_Reopen_DrainsInOrder_WithTopicAndCorrelation(OutboxFsync fsync)
    {
        using (AnswerOutbox outbox = AnswerOutbox.Open(Options(fsync)))
        {
            for (int i = 0; i < 100; i++)
            {
                outbox.Append(Msg(i));
            }

            // Acknowledge the first 30 and "crash".
            for (int i = 0; i < 30; i++)
            {
                Assert.True(outbox.TryPeek(out OutboxEntry e));
                Assert.True(outbox.Acknowledge(e.Sequence));
            }
        }

        using AnswerOutbox reopened = AnswerOutbox.Open(Options(fsync));
        Assert.Equal(70, reopened.PendingCount);
        Assert.True(reopened.TryPeek(out OutboxEntry head));
        Assert.Equal("t/30", head.Message.Topic);
        Assert.Equal(new byte[] { 30, 1 }, head.Message.CorrelationData.ToArray());
        Assert.Equal(0, reopened.DroppedCount);
        Assert.Equal(Enumerable.Range(30, 70), DrainAll(reopened));
    }

    [Fact]
    public void Sequences_AreMonotonic_AcrossReopen_AndAcknowledgeIsOrdered()
    {
        long last;
        using (AnswerOutbox outbox = AnswerOutbox.Open(Options()))
        {
            long a = outbox.Append(Msg(0));
            last = outbox.Append(Msg(1));
            Assert.True(last > a);
            Assert.False(outbox.Acknowledge(last)); // not the head
            Assert.True(outbox.Acknowledge(a));
            Assert.True(outbox.Acknowledge(last));
        }

        using AnswerOutbox reopened = AnswerOutbox.Open(Options());
        Assert.Equal(0, reopened.PendingCount);
        Assert.True(reopened.Append(Msg(2)) > last);
    }

    [Fact]
    public void TornWriteAtTail_IsDetectedSkippedAndTruncated()
    {
        using (AnswerOutbox outbox = AnswerOutbox.Open(Options()))
        {
            for (int i = 0; i < 10; i++)
            {
                outbox.Append(Msg(i));
            }
        }

        string segment = Directory.GetFiles(_dir, "seg-*.log").Single();
        long good = new FileInfo(segment).Length;
        using (var fs = new FileStream(segment, FileMode.Append))
        {
            // Half a record: a valid header start, then the crash.
            fs.Write(new byte[] { 0x55, 0x42, 0x4F, 0x58, 200, 0, 0, 0, 11, 0, 0 });
        }

        using (AnswerOutbox reopened = AnswerOutbox.Open(Options()))
        {
            Assert.Equal(10, reopened.PendingCount);
            Assert.Equal(1, reopened.DroppedCount);
            Assert.Equal(good, new FileInfo(segment).Length);
            reopened.Append(Msg(10));
            Assert.Equal(Enumerable.Range(0, 11), DrainAll(reopened));
        }
    }

    [Fact]
    public void RecordChecksum_IsCrc32Ieee_OverSequenceThenBody()
    {
        // The standard CRC-32 check value of "123456789", split where a record splits header and body: segments
        // written before the checksum came from System.IO.Hashing stay readable.
        Assert.Equal(0xCBF43926u, AnswerOutbox.RecordChecksum("12345678"u8, "9"u8));
        Assert.Equal(0xCBF43926u, AnswerOutbox.RecordChecksum("1234"u8, "56789"u8));
        Assert.Equal(0u, AnswerOutbox.RecordChecksum([], []));
    }

    [Fact]
    public void CorruptRecord_CrcMismatch_StopsThatSegmentThere()
    {
        using (AnswerOutbox outbox = AnswerOutbox.Open(Options()))
        {
            for (int i = 0; i < 5; i++)
            {
                outbox.Append(Msg(i));
            }
        }

        string segment = Directory.GetFiles(_dir, "seg-*.log").Single();
        byte[] data = File.ReadAllBytes(segment);
        int recordBytes = data.Length / 5;
        data[(3 * recordBytes) + 30] ^= 0xFF; // flip a payload byte of the fourth record
        File.WriteAllBytes(segment, data);

        using AnswerOutbox reopened = AnswerOutbox.Open(Options());
        Assert.Equal(new[] { 0, 1, 2 }, DrainAll(reopened));
    }

    [Fact]
    public void AcknowledgedSegments_AreDeleted_DiskStaysBounded()
    {
        using AnswerOutbox outbox = AnswerOutbox.Open(Options());
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < 50; i++)
            {
                outbox.Append(Msg(i));
            }

            DrainAll(outbox);
        }

        Assert.True(Directory.GetFiles(_dir, "seg-*.log").Length <= 2);
        Assert.True(outbox.DiskBytes <= 2 * 4096);
    }

    [Fact]
    public void Full_Reject_ThrowsAndKeepsWhatIsStored()
    {
        using AnswerOutbox outbox = AnswerOutbox.Open(Options(maxBytes: 3 * 4096));
        int stored = 0;
        Assert.Throws<OutboxFullException>(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                outbox.Append(Msg(i));
                stored++;
            }
        });
        Assert.InRange(stored, 80, 120);
        Assert.True(outbox.DiskBytes <= 3 * 4096);
        Assert.Equal(Enumerable.Range(0, stored), DrainAll(outbox));
        outbox.Append(Msg(5000)); // room again
    }

    [Fact]
    public void Full_DropOldest_DropsWholeOldestSegments_KeepsNewestInOrder()
    {
        using AnswerOutbox outbox = AnswerOutbox.Open(Options(maxBytes: 3 * 4096, full: OutboxFullPolicy.DropOldest));
        for (int i = 0; i < 1000; i++)
        {
            outbox.Append(Msg(i));
        }

        Assert.True(outbox.DiskBytes <= 3 * 4096);
        Assert.True(outbox.DroppedCount > 0);
        List<int> left = DrainAll(outbox);
        Assert.Equal(999, left[^1]);
        Assert.Equal(Enumerable.Range(left[0], left.Count), left);
        Assert.Equal(1000, left.Count + outbox.DroppedCount);
    }

    [Fact]
    public async Task WaitAsync_CompletesOnAppend()
    {
        using AnswerOutbox outbox = AnswerOutbox.Open(Options());
        ValueTask<OutboxEntry> wait = outbox.WaitAsync(CancellationToken.None);
        Assert.False(wait.IsCompleted);
        outbox.Append(Msg(7));
        OutboxEntry e = await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(7, Number(e));
    }
}
