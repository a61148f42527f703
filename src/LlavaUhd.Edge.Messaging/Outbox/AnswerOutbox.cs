using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Threading.Channels;
using LlavaUhd.Edge.Messaging.Errors;
using LlavaUhd.Edge.Messaging.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlavaUhd.Edge.Messaging.Outbox;

/// <summary>
/// Persistent, ordered outbox: every answer is appended to a segment file before it is published and leaves only when
/// the publisher calls <see cref="Acknowledge"/> after the broker's PUBACK. Reopening a directory after a crash
/// recovers what was not acknowledged, in sequence order.
/// </summary>
/// <remarks>
/// <para>Layout: <c>seg-&lt;first sequence, 20 digits&gt;.log</c> files of records
/// <c>[magic u32][body length u32][sequence u64][crc32 u32][body]</c>, body = <c>[topic length u16][topic][correlation
/// length u16][correlation][payload]</c>, little endian, CRC over sequence and body; and <c>acked</c>, the highest
/// acknowledged sequence (8 bytes, overwritten in place, not fsynced: losing it re-sends, which QoS 1 allows).</para>
/// <para>Recovery reads every segment, stops at the first record with a bad magic, length or CRC (a torn write at
/// the tail), truncates the file there and logs it. A segment is deleted once all its records are acknowledged and it
/// is no longer the one being written. Pending messages are also kept in memory (bounded by
/// <see cref="OutboxOptions.MaxBytes"/>), so publishing never reads the disk.</para>
/// <para>Thread safety: <see cref="Append"/> may be called from any thread; <see cref="TryPeek"/>,
/// <see cref="WaitAsync"/> and <see cref="Acknowledge"/> belong to one consumer (the publisher).</para>
/// </remarks>
public sealed class AnswerOutbox : IDisposable
{
    internal const uint Magic = 0x584F4255; // "UBOX"
    internal const int HeaderBytes = 20;
    private const string SegmentPrefix = "seg-";
    private const string SegmentSuffix = ".log";
    private const string AckFile = "acked";

    private readonly Lock _lock = new();
    private readonly OutboxOptions _options;
    private readonly ILogger _logger;
    private readonly Queue<Pending> _pending = new();
    private readonly List<Segment> _segments = [];
    private readonly HashSet<long> _memoryOnly = [];

    /// <summary>The most answers held in memory while the disk refuses writes (beyond it, appends are refused as full).</summary>
    public const int MaxMemoryOnly = 10_000;
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, AllowSynchronousContinuations = true });
    private readonly FileStream _ackStream;
    private readonly Timer? _fsyncTimer;
    private readonly byte[] _ackBuffer = new byte[8];
    private FileStream _active = null!;
    private long _nextSequence;
    private long _acked;
    private long _diskBytes;
    private long _pendingBytes;
    private bool _dirty;
    private bool _broken;
    private bool _disposed;

    private AnswerOutbox(OutboxOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        Directory.CreateDirectory(options.Directory);
        _ackStream = new FileStream(Path.Combine(options.Directory, AckFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
        Recover();
        OpenSegment();
        if (options.Fsync == OutboxFsync.Interval)
        {
            _fsyncTimer = new Timer(_ => FlushToDisk(), null, options.FsyncIntervalMs, options.FsyncIntervalMs);
        }
    }

    /// <summary>Opens (or creates) the outbox in <see cref="OutboxOptions.Directory"/> and recovers what is pending.</summary>
    public static AnswerOutbox Open(OutboxOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new AnswerOutbox(options, logger ?? NullLogger.Instance);
    }

    /// <summary>Messages stored and not yet acknowledged.</summary>
    public int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Bytes of the segment files on disk (acknowledged records in live segments included).</summary>
    public long DiskBytes
    {
        get
        {
            lock (_lock)
            {
                return _diskBytes;
            }
        }
    }

    /// <summary>Messages dropped by <see cref="OutboxFullPolicy.DropOldest"/> and torn records skipped at recovery.</summary>
    public long DroppedCount { get; private set; }

    /// <summary>Stores a message durably (per <see cref="OutboxOptions.Fsync"/>) and returns its sequence number.</summary>
    /// <exception cref="OutboxFullException">The outbox is full and the policy is <see cref="OutboxFullPolicy.Reject"/>.</exception>
    public long Append(OutboxMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        byte[] topic = Encoding.UTF8.GetBytes(message.Topic);
        if (topic.Length > ushort.MaxValue || message.CorrelationData.Length > ushort.MaxValue)
        {
            throw new ArgumentException("Topic or correlation data longer than 65535 bytes.", nameof(message));
        }

        int bodyLength = 2 + topic.Length + 2 + message.CorrelationData.Length + message.Payload.Length;
        int recordLength = HeaderBytes + bodyLength;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(recordLength);
        try
        {
            long sequence;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                sequence = _nextSequence;
                Encode(buffer, sequence, topic, message);
                MakeRoom(recordLength);
                if (TryWrite(buffer, recordLength))
                {
                    Segment seg = _segments[^1];
                    seg.Bytes += recordLength;
                    seg.LastSequence = sequence;
                    _diskBytes += recordLength;
                }
                else if (_memoryOnly.Count < MaxMemoryOnly)
                {
                    _memoryOnly.Add(sequence);   // delivered from memory like the others; not crash-safe
                }
                else
                {
                    throw new OutboxFullException(
                        $"Outbox '{_options.Directory}' cannot write to its disk and already holds {_memoryOnly.Count} answers in memory; the answer was not stored.");
                }

                _pendingBytes += recordLength;
                _pending.Enqueue(new Pending(new OutboxEntry(sequence, message), recordLength));
                _nextSequence = sequence + 1;
            }

            // Outside the lock and with synchronous continuations: a publisher waiting in WaitAsync goes on right here,
            // on this thread, up to its first wait for the network (one thread hop fewer between an answer and its
            // PUBLISH; docs/performance.md, "Question to answer").
            _signal.Writer.TryWrite(true);
            return sequence;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes one record to the active segment. When the disk refuses (full, read-only, gone), the segment is cut
    /// back to its last whole record so that nothing torn sits in front of later records, the failure is logged, and
    /// false says the record is held in memory only (docs/mqtt.md, "Delivery guarantees").
    /// </summary>
    private bool TryWrite(byte[] buffer, int recordLength)
    {
        try
        {
            if (_broken)
            {
                Reopen();   // the segment file could not be reopened after the last failure: try again first
            }

            if (_segments[^1].Bytes > 0 && _segments[^1].Bytes + recordLength > _options.SegmentBytes)
            {
                RollSegment();
            }

            _active.Write(buffer, 0, recordLength);
            if (_options.Fsync == OutboxFsync.Always)
            {
                _active.Flush(flushToDisk: true);
            }
            else
            {
                _active.Flush(flushToDisk: false);
                _dirty = true;
            }

            if (WriteFailing)
            {
                WriteFailing = false;
                _logger.LogWarning("Outbox {Directory}: writing works again; answers are stored on disk again ({Count} held in memory meanwhile).", _options.Directory, _memoryOnly.Count);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WriteFailures++;
            Repair();
            if (!WriteFailing)
            {
                WriteFailing = true;
                _logger.LogError("Outbox {Directory}: cannot write ({Message}); answers are held in memory until they are published — they survive a broker outage but not a crash, until the disk takes writes again.", _options.Directory, ex.Message);
            }

            return false;
        }
    }

    /// <summary>
    /// After a refused write: closes the active segment (what the failed write left in its buffer may reach the disk
    /// or not), reopens it and cuts it back to its whole records. When even that fails the outbox is
    /// <see cref="_broken"/> until a later append manages it.
    /// </summary>
    private void Repair()
    {
        try
        {
            _active.Dispose();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        try
        {
            Reopen();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _broken = true;
        }

        _dirty = false;
    }

    private void Reopen()
    {
        Segment segment = _segments[^1];
        var stream = new FileStream(segment.Path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.None);
        try
        {
            stream.SetLength(segment.Bytes);
            stream.Seek(0, SeekOrigin.End);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        _active = stream;
        _broken = false;
    }

    /// <summary>True while the disk refuses the outbox's writes (answers are then held in memory).</summary>
    public bool WriteFailing { get; private set; }

    /// <summary>Appends the disk refused since the outbox was opened.</summary>
    public long WriteFailures { get; private set; }

    /// <summary>Pending messages that are held in memory only (the disk refused them).</summary>
    public int MemoryOnlyCount
    {
        get
        {
            lock (_lock)
            {
                return _memoryOnly.Count;
            }
        }
    }

    /// <summary>The oldest unacknowledged message, if any.</summary>
    public bool TryPeek(out OutboxEntry entry)
    {
        lock (_lock)
        {
            if (_pending.TryPeek(out Pending p))
            {
                entry = p.Entry;
                return true;
            }

            entry = default;
            return false;
        }
    }

    /// <summary>Waits until a message is pending and returns the oldest.</summary>
    public async ValueTask<OutboxEntry> WaitAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryPeek(out OutboxEntry entry))
            {
                return entry;
            }

            await _signal.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes the oldest message after the broker acknowledged it; <paramref name="sequence"/> must be that message's.</summary>
    /// <returns>False when <paramref name="sequence"/> is not the oldest pending (already dropped or acknowledged).</returns>
    public bool Acknowledge(long sequence)
    {
        lock (_lock)
        {
            if (_disposed || !_pending.TryPeek(out Pending head) || head.Entry.Sequence != sequence)
            {
                return false;
            }

            _pending.Dequeue();
            _pendingBytes -= head.RecordBytes;
            _memoryOnly.Remove(sequence);
            _acked = sequence;
            BinaryPrimitives.WriteInt64LittleEndian(_ackBuffer, sequence);
            try
            {
                RandomAccess.Write(_ackStream.SafeFileHandle, _ackBuffer, 0);
                DeleteAckedSegments();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // the message was delivered; an ack that does not reach the disk only means a duplicate after a crash
                _logger.LogDebug("Outbox {Directory}: the acknowledgement of {Sequence} was not written ({Message}).", _options.Directory, sequence, ex.Message);
            }

            return true;
        }
    }

    /// <summary>Forces appended records to the disk now (whatever the policy).</summary>
    public void FlushToDisk()
    {
        lock (_lock)
        {
            if (_disposed || !_dirty || _broken)
            {
                return;
            }

            try
            {
                _active.Flush(flushToDisk: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // the records were written (a failed write is caught at append); a failed fsync is retried next time
                _logger.LogWarning("Outbox {Directory}: fsync failed ({Message}).", _options.Directory, ex.Message);
                return;
            }

            _dirty = false;
        }
    }

    /// <summary>Flushes and closes the files. Pending messages stay on disk for the next <see cref="Open"/>.</summary>
    public void Dispose()
    {
        _fsyncTimer?.Dispose();
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            try
            {
                if (!_broken)
                {
                    _active.Flush(flushToDisk: _options.Fsync != OutboxFsync.Never);
                }

                _active.Dispose();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogError("Outbox {Directory}: closing failed ({Message}).", _options.Directory, ex.Message);
            }

            _ackStream.Dispose();
            if (_memoryOnly.Count > 0)
            {
                _logger.LogError("Outbox {Directory}: {Count} undelivered answers were held in memory only (the disk refused them) and are lost.", _options.Directory, _memoryOnly.Count);
            }
        }
    }

    /// <summary>
    /// A record's checksum: CRC-32 (IEEE 802.3, reflected 0xEDB88320, as zlib and PNG) of its sequence number's eight
    /// header bytes followed by its body.
    /// </summary>
    internal static uint RecordChecksum(ReadOnlySpan<byte> sequence, ReadOnlySpan<byte> body)
    {
        var crc = new Crc32();
        crc.Append(sequence);
        crc.Append(body);
        return crc.GetCurrentHashAsUInt32();
    }

    private static void Encode(byte[] buffer, long sequence, byte[] topic, OutboxMessage message)
    {
        Span<byte> body = buffer.AsSpan(HeaderBytes);
        int at = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)topic.Length);
        at += 2;
        topic.CopyTo(body[at..]);
        at += topic.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(body[at..], (ushort)message.CorrelationData.Length);
        at += 2;
        message.CorrelationData.Span.CopyTo(body[at..]);
        at += message.CorrelationData.Length;
        message.Payload.Span.CopyTo(body[at..]);
        at += message.Payload.Length;

        Span<byte> header = buffer.AsSpan(0, HeaderBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], at);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], sequence);
        uint crc = RecordChecksum(header.Slice(8, 8), body[..at]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], crc);
    }

    private void MakeRoom(int recordLength)
    {
        if (recordLength > _options.MaxBytes - _options.SegmentBytes)
        {
            throw new ArgumentException($"A record of {recordLength} bytes can never fit an outbox of {_options.MaxBytes} bytes.");
        }

        if (_diskBytes + recordLength <= _options.MaxBytes)
        {
            return;
        }

        if (_options.WhenFull == OutboxFullPolicy.Reject)
        {
            throw new OutboxFullException(
                $"Outbox '{_options.Directory}' is full ({_diskBytes} of {_options.MaxBytes} bytes, {_pending.Count} pending); the answer was not stored.");
        }

        // DropOldest: retire whole segments from the front, never the one being written.
        if (_segments.Count == 1)
        {
            RollSegment();
        }

        while (_diskBytes + recordLength > _options.MaxBytes && _segments.Count > 1)
        {
            Segment oldest = _segments[0];
            long dropped = 0;
            while (_pending.TryPeek(out Pending p) && p.Entry.Sequence <= oldest.LastSequence)
            {
                _pending.Dequeue();
                _memoryOnly.Remove(p.Entry.Sequence);
                _pendingBytes -= p.RecordBytes;
                dropped++;
            }

            DroppedCount += dropped;
            _acked = Math.Max(_acked, oldest.LastSequence);
            BinaryPrimitives.WriteInt64LittleEndian(_ackBuffer, _acked);
            RandomAccess.Write(_ackStream.SafeFileHandle, _ackBuffer, 0);
            DeleteSegment(oldest);
            _logger.LogWarning("Outbox full ({MaxBytes} bytes): dropped {Count} unpublished answers up to sequence {Sequence}.", _options.MaxBytes, dropped, oldest.LastSequence);
        }
    }

    private void DeleteAckedSegments()
    {
        while (_segments.Count > 1 && _segments[0].LastSequence <= _acked)
        {
            DeleteSegment(_segments[0]);
        }
    }

    private void DeleteSegment(Segment segment)
    {
        _segments.Remove(segment);
        _diskBytes -= segment.Bytes;
        File.Delete(segment.Path);
    }

    private void RollSegment()
    {
        if (!_broken)
        {
            _active.Flush(flushToDisk: _options.Fsync != OutboxFsync.Never);
        }

        _active.Dispose();
        _dirty = false;
        OpenSegment();
        DeleteAckedSegments();
    }

    private void OpenSegment()
    {
        string path = Path.Combine(_options.Directory, SegmentPrefix + _nextSequence.ToString("D20", CultureInfo.InvariantCulture) + SegmentSuffix);
        _active = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.None);
        _broken = false;
        _segments.Add(new Segment(path, _nextSequence) { LastSequence = _nextSequence - 1 });
    }

    private void Recover()
    {
        Span<byte> ack = stackalloc byte[8];
        _acked = RandomAccess.Read(_ackStream.SafeFileHandle, ack, 0) == 8 ? BinaryPrimitives.ReadInt64LittleEndian(ack) : 0;
        long maxSequence = _acked;
        long previous = 0;
        string[] files = Directory.GetFiles(_options.Directory, SegmentPrefix + "*" + SegmentSuffix);
        Array.Sort(files, StringComparer.Ordinal);
        foreach (string path in files)
        {
            byte[] data = File.ReadAllBytes(path);
            var segment = new Segment(path, 0) { LastSequence = -1 };
            int at = 0;
            while (TryDecode(data, at, previous, out OutboxEntry entry, out int length))
            {
                previous = entry.Sequence;
                maxSequence = Math.Max(maxSequence, entry.Sequence);
                segment.LastSequence = entry.Sequence;
                if (entry.Sequence > _acked)
                {
                    _pending.Enqueue(new Pending(entry, length));
                    _pendingBytes += length;
                }

                at += length;
            }

            if (at < data.Length)
            {
                long skipped = data.Length - at;
                DroppedCount++;
                _logger.LogWarning("Outbox segment {Path}: torn or corrupt record at offset {Offset}; {Bytes} bytes skipped and truncated.", path, at, skipped);
                using var fs = new FileStream(path, FileMode.Open, FileAccess.Write);
                fs.SetLength(at);
                fs.Flush(flushToDisk: true);
            }

            segment.Bytes = at;
            if (at == 0 || segment.LastSequence <= _acked)
            {
                File.Delete(path);
            }
            else
            {
                _segments.Add(segment);
                _diskBytes += at;
            }
        }

        _nextSequence = maxSequence + 1;
        if (_pending.Count > 0)
        {
            _logger.LogInformation("Outbox {Directory}: {Count} unacknowledged answers recovered (sequences {First}..{Last}).",
                _options.Directory, _pending.Count, _pending.Peek().Entry.Sequence, maxSequence);
        }
    }

    private static bool TryDecode(byte[] data, int at, long previous, out OutboxEntry entry, out int length)
    {
        entry = default;
        length = 0;
        if (data.Length - at < HeaderBytes)
        {
            return false;
        }

        ReadOnlySpan<byte> header = data.AsSpan(at, HeaderBytes);
        int bodyLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || bodyLength < 4 || bodyLength > data.Length - at - HeaderBytes || sequence <= previous)
        {
            return false;
        }

        ReadOnlySpan<byte> body = data.AsSpan(at + HeaderBytes, bodyLength);
        if (RecordChecksum(header.Slice(8, 8), body) != BinaryPrimitives.ReadUInt32LittleEndian(header[16..]))
        {
            return false;
        }

        int topicLength = BinaryPrimitives.ReadUInt16LittleEndian(body);
        if (2 + topicLength + 2 > bodyLength)
        {
            return false;
        }

        string topic = Encoding.UTF8.GetString(body.Slice(2, topicLength));
        int correlationLength = BinaryPrimitives.ReadUInt16LittleEndian(body[(2 + topicLength)..]);
        int payloadAt = 2 + topicLength + 2 + correlationLength;
        if (payloadAt > bodyLength)
        {
            return false;
        }

        byte[] correlation = body.Slice(2 + topicLength + 2, correlationLength).ToArray();
        byte[] payload = body[payloadAt..].ToArray();
        entry = new OutboxEntry(sequence, new OutboxMessage(topic, payload, correlation));
        length = HeaderBytes + bodyLength;
        return true;
    }

    private readonly record struct Pending(OutboxEntry Entry, int RecordBytes);

    private sealed class Segment(string path, long firstSequence)
    {
        public string Path { get; } = path;

        public long FirstSequence { get; } = firstSequence;

        public long LastSequence { get; set; }

        public long Bytes { get; set; }
    }
}
