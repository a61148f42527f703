using System.Globalization;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Messaging;

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

/// <summary>The <c>Service:Tokens</c> section: token packets between an encoder and a decoder device.</summary>
internal sealed class TokenOptions
{
    /// <summary>A packet's header and plan alone take a few hundred bytes; a cap below this cannot hold any region.</summary>
    public const int MinPacketBytes = 1024;

    /// <summary>Wire type of the features: <c>fp32</c> (exact), <c>fp16</c> or <c>int8</c> (per-token scale).</summary>
    public string DType { get; set; } = "fp16";

    /// <summary>Brotli over the feature payload (fewer bytes, more CPU on the encoder).</summary>
    public bool Brotli { get; set; }

    /// <summary>A packet larger than this is not published (error log and an error on <c>…/errors</c>).</summary>
    public int MaxPacketBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Per-camera overrides of <see cref="DType"/> and <see cref="Brotli"/> (encoder), keyed by camera id.</summary>
    public Dictionary<string, TokenCameraOptions> PerCamera { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Decoder: the topic prefix of the encoder device (empty: <c>Mqtt:TopicPrefix</c>).</summary>
    public string SourcePrefix { get; set; } = "";

    /// <summary>Decoder: the encoder's device id, whose <c>…/+/tokens</c> it subscribes to (empty: <c>Mqtt:DeviceId</c>).</summary>
    public string SourceDevice { get; set; } = "";

    /// <summary>Decoder: the cameras it answers for on its own <c>…/&lt;camera&gt;/ask</c> (the encoder's camera ids).</summary>
    public IList<string> Cameras { get; init; } = [];

    public (TokenDType DType, bool Brotli) For(string camera)
    {
        TokenCameraOptions? c = PerCamera.GetValueOrDefault(camera);
        string name = c?.DType ?? DType;
        TokenQuantizer.TryParse(name, out TokenDType dtype);
        return (dtype, c?.Brotli ?? Brotli);
    }

    internal void Validate(ServiceOptions service, IReadOnlyDictionary<string, IReadOnlySet<string>> zonesByCamera, List<string> problems)
    {
        if (!TokenQuantizer.TryParse(DType, out _))
        {
            problems.Add($"Service:Tokens:DType '{DType}' is not one of fp32, fp16, int8.");
        }

        if (MaxPacketBytes < MinPacketBytes || MaxPacketBytes > TokenPacketCodec.DefaultMaxPacketBytes)
        {
            problems.Add(ServiceOptions.Invariant($"Service:Tokens:MaxPacketBytes = {MaxPacketBytes} must be {MinPacketBytes}–{TokenPacketCodec.DefaultMaxPacketBytes} (a packet needs its header and plan)."));
        }

        foreach ((string camera, TokenCameraOptions? c) in PerCamera)
        {
            if (c?.DType is { } d && !TokenQuantizer.TryParse(d, out _))
            {
                problems.Add($"Service:Tokens:PerCamera:{camera}:DType '{d}' is not one of fp32, fp16, int8.");
            }

            if (service.IsEncoder && !zonesByCamera.ContainsKey(camera))
            {
                problems.Add($"Service:Tokens:PerCamera:{camera}: '{camera}' is not in Capture:Cameras.");
            }
        }

        if (service.IsDecoder)
        {
            if (Cameras.Count == 0)
            {
                problems.Add("Service:Tokens:Cameras is empty; a decoder needs the camera ids it answers for (the encoder's cameras).");
            }

            foreach (string camera in Cameras)
            {
                if (!MqttTopics.IsValidSegment(camera))
                {
                    problems.Add($"Service:Tokens:Cameras: '{camera}' is not a valid camera id (topic segment).");
                }
            }

            if (SourcePrefix.Length > 0 && !MqttTopics.IsValidPrefix(SourcePrefix))
            {
                problems.Add($"Service:Tokens:SourcePrefix '{SourcePrefix}' is not a valid topic prefix.");
            }

            if (SourceDevice.Length > 0 && !MqttTopics.IsValidSegment(SourceDevice))
            {
                problems.Add($"Service:Tokens:SourceDevice '{SourceDevice}' is not a valid device id.");
            }
        }
    }
}

/// <summary>Per-camera token settings (null: the <c>Service:Tokens</c> default).</summary>
internal sealed class TokenCameraOptions
{
    public string? DType { get; set; }

    public bool? Brotli { get; set; }
}

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

/// <summary>A rectangle in native pixels of the frame.</summary>
internal sealed class RoiOptions
{
    public int X { get; set; }

    public int Y { get; set; }

    public int Width { get; set; }

    public int Height { get; set; }
}
