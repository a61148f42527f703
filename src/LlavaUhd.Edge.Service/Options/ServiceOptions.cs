using System.Globalization;

namespace LlavaUhd.Edge.Service.Options;

/// <summary>The <c>Service</c> configuration section: the work queue, standing questions and run limits.</summary>
internal sealed class ServiceOptions
{
    public const string SectionName = "Service";

    /// <summary>The built-in trigger name: ask every <see cref="StandingQuestionOptions.IntervalSeconds"/>.</summary>
    public const string IntervalTrigger = "interval";

    public const string RoleFull = "full";
    public const string RoleEncoder = "encoder";
    public const string RoleDecoder = "decoder";

    public static IReadOnlyList<string> Roles { get; } = [RoleFull, RoleEncoder, RoleDecoder];

    /// <summary>
    /// <c>full</c> (capture → encode → answer, the default), <c>encoder</c> (capture → encode → token packets on
    /// <c>…/&lt;camera&gt;/tokens</c>, no answers) or <c>decoder</c> (no cameras; answers questions from the latest
    /// packets of another device).
    /// </summary>
    public string Role { get; set; } = RoleFull;

    public bool IsEncoder => Role == RoleEncoder;

    public bool IsDecoder => Role == RoleDecoder;

    /// <summary>Token packets: wire format and size cap (encoder), source and cameras (decoder).</summary>
    public TokenOptions Tokens { get; init; } = new();

    /// <summary>Work items (standing and MQTT questions) waiting for the model; a full queue answers "busy".</summary>
    public int QueueDepth { get; set; } = 4;

    /// <summary>The most waiting items the worker takes at once and encodes with one <c>EncodeBatch</c> call.</summary>
    public int MaxBatch { get; set; } = 4;

    /// <summary>Motion triggers: the most frames per second and camera the motion detector looks at (the latest frame each time).</summary>
    public double MotionChecksPerSecond { get; set; } = 5;

    /// <summary>Answered frames kept per camera so follow-up questions can reference them (<c>"frame"</c>).</summary>
    public int FrameHistory { get; set; } = 4;

    /// <summary>How long a question waits for a camera's first frame before it is refused.</summary>
    public int FrameWaitMs { get; set; } = 5_000;

    /// <summary>
    /// The folder relative paths in the configuration resolve against (camera files and folders, the model, the
    /// outbox, caches, certificates): by default the config file's folder (<c>--config FILE</c>), or the current
    /// directory for the embedded demo defaults; a relative value here is itself relative to that default.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>On a normal stop, how long the service keeps delivering what its outbox holds (waiting out a broker outage meanwhile) before it exits.</summary>
    public int ShutdownDrainSeconds { get; set; } = 10;

    /// <summary>Stop after this many answers (0: run until stopped). Command line: <c>--max-answers N</c>.</summary>
    public int MaxAnswers { get; set; }

    /// <summary>False: validate camera sources and the model path for their shape only, not their existence.</summary>
    public bool CheckPaths { get; set; } = true;

    /// <summary>
    /// After each answer, publish the answered frame as a JPEG with the zones, the motion box and the slice grid drawn
    /// on it, retained at QoS 0 on <c>…/&lt;camera&gt;/snapshot</c> (docs/http.md, docs/mqtt.md).
    /// </summary>
    public bool PublishSnapshots { get; set; }

    /// <summary>Questions asked on their trigger, per camera.</summary>
    public IList<StandingQuestionOptions> Questions { get; init; } = [];

    public IReadOnlyList<string> Problems(IReadOnlyDictionary<string, IReadOnlySet<string>> zonesByCamera, IReadOnlySet<string> triggerNames)
    {
        var problems = new List<string>();
        if (QueueDepth is < 1 or > 1024)
        {
            problems.Add(Invariant($"Service:QueueDepth = {QueueDepth} must be 1–1024."));
        }

        if (MaxBatch is < 1 or > 64)
        {
            problems.Add(Invariant($"Service:MaxBatch = {MaxBatch} must be 1–64."));
        }

        if (MotionChecksPerSecond is not (> 0 and <= 120))
        {
            problems.Add(Invariant($"Service:MotionChecksPerSecond = {MotionChecksPerSecond} must be above 0 and at most 120."));
        }

        if (FrameHistory is < 0 or > 64)
        {
            problems.Add(Invariant($"Service:FrameHistory = {FrameHistory} must be 0–64."));
        }

        if (ShutdownDrainSeconds is < 0 or > 600)
        {
            problems.Add(Invariant($"Service:ShutdownDrainSeconds = {ShutdownDrainSeconds} must be 0–600."));
        }

        if (FrameWaitMs is < 0 or > 600_000)
        {
            problems.Add(Invariant($"Service:FrameWaitMs = {FrameWaitMs} must be 0–600000."));
        }

        if (MaxAnswers < 0)
        {
            problems.Add(Invariant($"Service:MaxAnswers = {MaxAnswers} must be 0 (run forever) or more."));
        }

        if (!Roles.Contains(Role))
        {
            problems.Add($"Service:Role '{Role}' is not one of {string.Join(", ", Roles)}.");
        }

        if (PublishSnapshots && IsDecoder)
        {
            problems.Add("Service:PublishSnapshots: a decoder has no camera frames to publish; set it on the device with the cameras.");
        }

        Tokens.Validate(this, zonesByCamera, problems);
        if (IsDecoder && Questions.Count > 0)
        {
            problems.Add("Service:Questions: a decoder has no cameras, so no standing questions; ask it over MQTT (…/<camera>/ask).");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Questions.Count && !IsDecoder; i++)
        {
            string path = Invariant($"Service:Questions[{i}]");
            StandingQuestionOptions? q = Questions[i];
            if (q is null)
            {
                problems.Add($"{path}: is empty.");
                continue;
            }

            q.Validate(path, zonesByCamera, triggerNames, problems);
            if (!string.IsNullOrWhiteSpace(q.Name) && !names.Add(q.Name))
            {
                problems.Add($"{path}: question name '{q.Name}' is used twice.");
            }
        }

        return problems;
    }

    internal static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
