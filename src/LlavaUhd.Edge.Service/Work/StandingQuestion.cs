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

    /// <summary>
    /// True once the type was set at runtime (<c>…/question/set</c> with an object, or restored from the settings
    /// file): only then is it persisted, so a type added to the configuration later is not overridden by a saved one.
    /// </summary>
    public bool AnswerTypeSetAtRuntime { get; set; }

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
