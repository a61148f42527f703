using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Service.Options;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>A standing question with its runtime-changeable settings (enable, question, interval over MQTT).</summary>
internal sealed class StandingQuestion
{
    private readonly Lock _lock = new();
    private string _question;
    private AnswerType? _answerType;
    private double _intervalSeconds;
    private bool _enabled;
    private int _inFlight;

    public StandingQuestion(StandingQuestionOptions options, CompressionProfile defaultProfile, int defaultMaxNewTokens)
    {
        Name = options.Name;
        Camera = options.Camera;
        Trigger = options.Trigger;
        Roi = options.Roi is { } r ? new PixelRect(r.X, r.Y, r.Width, r.Height) : null;
        Zone = options.Zone;
        Profile = options.Profile is not null && CompressionProfiles.TryParse(options.Profile, out CompressionProfile p) ? p : defaultProfile;
        MaxNewTokens = options.MaxNewTokens > 0 ? options.MaxNewTokens : defaultMaxNewTokens > 0 ? defaultMaxNewTokens : null;
        _question = options.Question;
        _answerType = options.ParseAnswerType();
        _intervalSeconds = options.IntervalSeconds;
        _enabled = options.Enabled;
    }

    public string Name { get; }

    public string Camera { get; }

    public string Trigger { get; }

    public bool IsInterval => Trigger == ServiceOptions.IntervalTrigger;

    public PixelRect? Roi { get; }

    public string? Zone { get; }

    public CompressionProfile Profile { get; }

    public int? MaxNewTokens { get; }

    public string Question
    {
        get { lock (_lock) { return _question; } }
        set { lock (_lock) { _question = value; } }
    }

    /// <summary>The answer's type (null: free text); changed with the question over <c>…/question/set</c>.</summary>
    public AnswerType? AnswerType
    {
        get { lock (_lock) { return _answerType; } }
        set { lock (_lock) { _answerType = value; } }
    }

    public double IntervalSeconds
    {
        get { lock (_lock) { return _intervalSeconds; } }
        set { lock (_lock) { _intervalSeconds = value; } }
    }

    public bool Enabled
    {
        get { lock (_lock) { return _enabled; } }
        set { lock (_lock) { _enabled = value; } }
    }

    /// <summary>When the interval trigger fires next (Stopwatch ticks); 0: as soon as a frame is there.</summary>
    public long Due { get; set; }

    /// <summary>Skipped because the previous answer of this question was still being made or the queue was full.</summary>
    public long Skipped;

    public bool TryBegin() => Interlocked.CompareExchange(ref _inFlight, 1, 0) == 0;

    public void End() => Volatile.Write(ref _inFlight, 0);
}

/// <summary>One camera as the service runs it: enabled flag, zones, its standing questions (the first is the primary one the MQTT settings change).</summary>
internal sealed class CameraRuntime
{
    private readonly Lock _lock = new();
    private readonly List<StandingQuestion> _questions = [];
    private readonly ZoneSet _zones;
    private readonly Dictionary<string, ZoneOptions> _zoneByName;
    private bool _enabled = true;

    public CameraRuntime(CameraOptions options)
    {
        Id = options.Id;
        _zones = new ZoneSet(options.Zones);
        _zoneByName = options.Zones.Where(z => z is not null).ToDictionary(z => z.Name, StringComparer.Ordinal);
    }

    public string Id { get; }

    public bool Enabled
    {
        get { lock (_lock) { return _enabled; } }
        set { lock (_lock) { _enabled = value; } }
    }

    public IReadOnlyList<StandingQuestion> Questions
    {
        get { lock (_lock) { return [.. _questions]; } }
    }

    public StandingQuestion? Primary
    {
        get { lock (_lock) { return _questions.Count > 0 ? _questions[0] : null; } }
    }

    public void Add(StandingQuestion question)
    {
        lock (_lock)
        {
            _questions.Add(question);
        }
    }

    public int ZoneCount => _zones.Count;

    /// <summary>The region of <paramref name="question"/> in a frame of <paramref name="size"/>, clipped to it; null when it lies outside.</summary>
    public PixelRect? RegionOf(StandingQuestion question, PixelSize size)
    {
        if (question.Zone is not null && _zoneByName.TryGetValue(question.Zone, out ZoneOptions? zone))
        {
            return ZoneSet.ToPixels(zone, size);
        }

        return Clip(question.Roi, size);
    }

    /// <summary><paramref name="roi"/> clipped to the frame (the whole frame when null); null when nothing is left.</summary>
    public static PixelRect? Clip(PixelRect? roi, PixelSize size)
    {
        if (roi is not { } r)
        {
            return new PixelRect(0, 0, size.Width, size.Height);
        }

        int x0 = Math.Max(0, r.X), y0 = Math.Max(0, r.Y);
        int x1 = Math.Min(size.Width, r.X + r.Width), y1 = Math.Min(size.Height, r.Y + r.Height);
        return x1 > x0 && y1 > y0 ? new PixelRect(x0, y0, x1 - x0, y1 - y0) : null;
    }
}

/// <summary>Counts answers for <c>--max-answers</c> and stops the host after the last one.</summary>
internal sealed class AnswerCounter
{
    private readonly int _max;
    private readonly Action _stop;
    private long _count;

    public AnswerCounter(int maxAnswers, Action stop)
    {
        _max = maxAnswers;
        _stop = stop;
    }

    public long Count => Interlocked.Read(ref _count);

    public int Max => _max;

    /// <summary>True when this answer may be published (false once the limit was reached); stops the host at the limit.</summary>
    public bool TryTake()
    {
        long n = Interlocked.Increment(ref _count);
        if (_max > 0 && n > _max)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        if (_max > 0 && n == _max)
        {
            _stop();
        }

        return true;
    }
}
