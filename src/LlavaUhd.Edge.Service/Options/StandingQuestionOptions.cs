using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Pipeline;

namespace LlavaUhd.Edge.Service.Options;

/// <summary>A standing question: asked about a camera's latest frame whenever its trigger fires.</summary>
internal sealed class StandingQuestionOptions
{
    public const int MaxQuestionChars = 4096;

    /// <summary>Unique name (logs, answers' <c>question_id</c>); default <c>&lt;camera&gt;-&lt;index&gt;</c>.</summary>
    public string Name { get; set; } = "";

    public string Camera { get; set; } = "";

    public string Question { get; set; } = "";

    /// <summary><c>interval</c> (built in) or the name of a trigger in the <c>Triggers</c> section (Gpio, Pir, Interval).</summary>
    public string Trigger { get; set; } = ServiceOptions.IntervalTrigger;

    /// <summary>Seconds between questions for the <c>interval</c> trigger (runtime: <c>…/&lt;camera&gt;/interval/set</c>).</summary>
    public double IntervalSeconds { get; set; } = 10;

    /// <summary>Region in native pixels; null: <see cref="Zone"/> or the whole frame.</summary>
    public RoiOptions? Roi { get; set; }

    /// <summary>A zone of the camera (Capture:Cameras[i]:Zones) whose bounding box is the region.</summary>
    public string? Zone { get; set; }

    /// <summary>fast, balanced, detail, ocr, native; null: <c>Inference:Profile</c>.</summary>
    public string? Profile { get; set; }

    /// <summary>0: <c>Inference:MaxNewTokens</c> (or the package default).</summary>
    public int MaxNewTokens { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary><c>yes_no</c>, <c>number</c>, <c>choice</c>, <c>json</c>; null: free text (docs/typed-answers.md).</summary>
    public string? AnswerType { get; set; }

    /// <summary>The options of a <c>choice</c> answer.</summary>
    public IList<string> Options { get; init; } = [];

    /// <summary>Bounds of a <c>number</c> answer.</summary>
    public double? Min { get; set; }

    public double? Max { get; set; }

    /// <summary>A <c>number</c> answer takes whole numbers only.</summary>
    public bool Integer { get; set; }

    /// <summary>The JSON Schema (as JSON text) of a <c>json</c> answer.</summary>
    public string? Schema { get; set; }

    /// <summary>The typed answer these settings describe (null: free text); throws <see cref="AnswerTypeException"/> when invalid.</summary>
    public AnswerType? ParseAnswerType() =>
        string.IsNullOrEmpty(AnswerType) ? null : Core.Decoding.AnswerType.Create(AnswerType, [.. Options], Min, Max, Integer, Schema);

    internal void Validate(string path, IReadOnlyDictionary<string, IReadOnlySet<string>> zonesByCamera, IReadOnlySet<string> triggerNames, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(Camera))
        {
            problems.Add($"{path}: Camera is required.");
        }
        else if (!zonesByCamera.ContainsKey(Camera))
        {
            problems.Add($"{path}: Camera '{Camera}' is not in Capture:Cameras ({string.Join(", ", zonesByCamera.Keys)}).");
        }

        if (string.IsNullOrWhiteSpace(Question) || Question.Length > MaxQuestionChars)
        {
            problems.Add(ServiceOptions.Invariant($"{path}: Question must be 1–{MaxQuestionChars} characters."));
        }

        if (Trigger == ServiceOptions.IntervalTrigger)
        {
            if (!(IntervalSeconds >= 0.01 && IntervalSeconds <= 86_400))
            {
                problems.Add(ServiceOptions.Invariant($"{path}: IntervalSeconds = {IntervalSeconds} must be 0.01–86400."));
            }
        }
        else if (!triggerNames.Contains(Trigger))
        {
            problems.Add($"{path}: Trigger '{Trigger}' is neither 'interval' nor a trigger named in the Triggers section ({string.Join(", ", triggerNames)}).");
        }

        if (Roi is not null && Zone is not null)
        {
            problems.Add($"{path}: set Roi or Zone, not both.");
        }

        if (Roi is { } r && (r.X < 0 || r.Y < 0 || r.Width <= 0 || r.Height <= 0))
        {
            problems.Add(ServiceOptions.Invariant($"{path}: Roi needs X, Y >= 0 and Width, Height > 0; got {r.X},{r.Y},{r.Width},{r.Height}."));
        }

        if (Zone is not null && zonesByCamera.TryGetValue(Camera, out IReadOnlySet<string>? zones) && !zones.Contains(Zone))
        {
            problems.Add($"{path}: Zone '{Zone}' is not a zone of camera '{Camera}'.");
        }

        if (Profile is not null && !CompressionProfiles.TryParse(Profile, out _))
        {
            problems.Add($"{path}: Profile '{Profile}' is not one of {string.Join(", ", CompressionProfiles.Names)}.");
        }

        if (MaxNewTokens is < 0 or > 8192)
        {
            problems.Add(ServiceOptions.Invariant($"{path}: MaxNewTokens = {MaxNewTokens} must be 0 (default) to 8192."));
        }

        try
        {
            _ = ParseAnswerType();
        }
        catch (AnswerTypeException ex)
        {
            problems.Add($"{path}: AnswerType: {ex.Message}");
        }
    }
}
