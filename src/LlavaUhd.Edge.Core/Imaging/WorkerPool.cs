using System.Runtime.ExceptionServices;

namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>
/// A fixed set of threads that run one <see cref="IParallelJob"/> at a time over a range of items, the calling thread
/// taking part. Unlike <c>Parallel.For</c> it allocates nothing per call, so a frame's pixel path stays allocation-free.
/// One caller at a time (the pixel path is sequential between stages).
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim _start = new(0);
    private readonly ManualResetEventSlim _done = new(false);
    private IParallelJob? _job;
    private int _count;
    private int _grain;
    private int _next;
    private int _running;
    private ExceptionDispatchInfo? _error;
    private volatile bool _disposed;

    public WorkerPool(int degreeOfParallelism)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        DegreeOfParallelism = degreeOfParallelism;
        _threads = new Thread[degreeOfParallelism - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int worker = i + 1;
            _threads[i] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"pixels-{worker}" };
            _threads[i].Start();
        }
    }

    public int DegreeOfParallelism { get; }

    /// <summary>Runs <paramref name="job"/> over [0, <paramref name="count"/>) in chunks and returns when all are done.</summary>
    public void Run(IParallelJob job, int count, int minGrain = 1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0)
        {
            return;
        }

        int grain = Math.Max(minGrain, count / (DegreeOfParallelism * 4));
        if (_threads.Length == 0 || count <= grain)
        {
            job.Execute(0, count, 0);
            return;
        }

        _job = job;
        _count = count;
        _grain = grain;
        _next = 0;
        _error = null;
        _done.Reset();
        _running = _threads.Length + 1;
        _start.Release(_threads.Length);
        Work(0);
        _done.Wait();
        _job = null;
        _error?.Throw();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_threads.Length > 0)
        {
            _start.Release(_threads.Length);
        }
        foreach (Thread t in _threads)
        {
            t.Join();
        }

        _start.Dispose();
        _done.Dispose();
    }

    private void Loop(int worker)
    {
        while (true)
        {
            _start.Wait();
            if (_disposed)
            {
                return;
            }

            Work(worker);
        }
    }

    private void Work(int worker)
    {
        try
        {
            IParallelJob job = _job!;
            while (true)
            {
                int begin = Interlocked.Add(ref _next, _grain) - _grain;
                if (begin >= _count)
                {
                    break;
                }

                job.Execute(begin, Math.Min(begin + _grain, _count), worker);
            }
        }
        catch (Exception ex)
        {
            _error ??= ExceptionDispatchInfo.Capture(ex);
        }
        finally
        {
            if (Interlocked.Decrement(ref _running) == 0)
            {
                _done.Set();
            }
        }
    }
}
