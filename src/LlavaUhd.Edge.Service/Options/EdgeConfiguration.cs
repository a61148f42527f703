using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Capture.Triggers;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Messaging.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace LlavaUhd.Edge.Service.Options;

/// <summary>
/// The whole device configuration, bound from the configuration root: the sections <c>Capture</c>,
/// <c>Triggers</c>, <c>Inference</c>, <c>Mqtt</c>, <c>Service</c> and <c>Http</c>, validated together so that every problem is
/// listed at once.
/// </summary>
internal sealed class EdgeConfiguration
{
    public CaptureOptions Capture { get; init; } = new();

    public TriggerOptions Triggers { get; init; } = new();

    public InferenceOptions Inference { get; init; } = new();

    public MqttOptions Mqtt { get; init; } = new();

    public ServiceOptions Service { get; init; } = new();

    public HttpOptions Http { get; init; } = new();

    /// <summary>Binds every section; binding errors (a word where a number belongs) become problems too.</summary>
    public static EdgeConfiguration Bind(IConfiguration configuration, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var result = new EdgeConfiguration();

        // The binder appends configured array items to a list that already has defaults: a configured provider
        // order replaces the default one instead.
        if (configuration.GetSection("Inference:Providers:Order").GetChildren().Any())
        {
            result.Inference.Providers.Order = [];
        }

        BindSection(configuration, CaptureOptions.SectionName, result.Capture, problems);
        BindSection(configuration, TriggerOptions.SectionName, result.Triggers, problems);
        BindSection(configuration, InferenceOptions.SectionName, result.Inference, problems);
        BindSection(configuration, MqttOptions.SectionName, result.Mqtt, problems);
        BindSection(configuration, ServiceOptions.SectionName, result.Service, problems);
        BindSection(configuration, HttpOptions.SectionName, result.Http, problems);
        return result;
    }

    /// <summary>Every problem in every section, each naming its key; empty when the configuration is valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        bool checkPaths = Service.CheckPaths;
        // A decoder has no cameras: an empty Capture section is fine there.
        // cameras: the shape of each source; one missing at start is retried at run time (CameraSupervisor), not fatal
        problems.AddRange(Capture.Validate(checkPaths: false, requireCameras: !Service.IsDecoder));
        problems.AddRange(Triggers.Validate());
        problems.AddRange(Inference.Problems());
        if (checkPaths && !string.IsNullOrWhiteSpace(Inference.Model) && !Directory.Exists(Inference.Model))
        {
            problems.Add($"Inference:Model '{Inference.Model}' does not exist; generate a test model (llava-edge models generate --preset tiny-smolvlm --out DIR) or import one (llava-edge models import).");
        }

        problems.AddRange(MqttOptionsValidator.Check(Mqtt));
        problems.AddRange(Service.Problems(ZonesByCamera(), TriggerNames()));
        problems.AddRange(Http.Problems());
        // A motion trigger watches the camera of each question bound to it: its zone must be one of that camera's.
        IReadOnlyDictionary<string, IReadOnlySet<string>> zones = ZonesByCamera();
        foreach (StandingQuestionOptions q in Service.Questions)
        {
            MotionTriggerOptions? m = q is null ? null : Triggers.Motion.FirstOrDefault(t => t?.Name == q.Trigger);
            if (m is null || string.IsNullOrWhiteSpace(q!.Camera))
            {
                continue;
            }

            if (!string.IsNullOrEmpty(m.CameraId) && m.CameraId != q.Camera)
            {
                problems.Add($"Service:Questions ({q.Name}): motion trigger '{m.Name}' watches camera '{m.CameraId}', not '{q.Camera}'.");
            }

            if (!string.IsNullOrEmpty(m.Zone) && zones.TryGetValue(q.Camera, out IReadOnlySet<string>? names) && !names.Contains(m.Zone))
            {
                problems.Add($"Service:Questions ({q.Name}): motion trigger '{m.Name}' names zone '{m.Zone}', which camera '{q.Camera}' does not have.");
            }
        }

        return problems;
    }

    public IReadOnlyDictionary<string, IReadOnlySet<string>> ZonesByCamera()
    {
        var map = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (CameraOptions c in Capture.Cameras)
        {
            if (c is not null && !string.IsNullOrWhiteSpace(c.Id))
            {
                map[c.Id] = c.Zones.Where(z => z is not null).Select(z => z.Name).ToHashSet(StringComparer.Ordinal);
            }
        }

        return map;
    }

    public IReadOnlySet<string> TriggerNames() =>
        Triggers.Interval.Select(t => t?.Name)
            .Concat(Triggers.Gpio.Select(t => t?.Name))
            .Concat(Triggers.Pir.Select(t => t?.Name))
            .Concat(Triggers.Motion.Select(t => t?.Name))
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>Binds and validates; throws <see cref="OptionsValidationException"/> listing every problem.</summary>
    public static EdgeConfiguration Load(IConfiguration configuration)
    {
        var problems = new List<string>();
        // unknown keys and unreadable values first: what passes is bound, so the rest is still checked
        EdgeConfiguration config = Bind(ConfigurationKeys.Check(configuration, problems), problems);
        config.ResolvePaths(configuration["Service:ConfigFile"]);
        problems.AddRange(config.Problems());   // also after a binding error: the rest is still checked
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(nameof(EdgeConfiguration), typeof(EdgeConfiguration), problems);
        }

        for (int i = 0; i < config.Service.Questions.Count; i++)
        {
            StandingQuestionOptions q = config.Service.Questions[i];
            if (string.IsNullOrWhiteSpace(q.Name))
            {
                q.Name = ServiceOptions.Invariant($"{q.Camera}-{i}");
            }
        }

        return config;
    }

    /// <summary>The folder relative paths resolve against (<see cref="ServiceOptions.DataDirectory"/>).</summary>
    public string DataDirectory { get; private set; } = Directory.GetCurrentDirectory();

    /// <summary>Makes every relative path absolute against <see cref="DataDirectory"/>, so nothing depends on the working directory the service was started in.</summary>
    private void ResolvePaths(string? configFile)
    {
        string origin = string.IsNullOrWhiteSpace(configFile)
            ? Directory.GetCurrentDirectory()
            : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(configFile)) ?? Directory.GetCurrentDirectory();
        DataDirectory = string.IsNullOrWhiteSpace(Service.DataDirectory) ? origin : System.IO.Path.GetFullPath(Service.DataDirectory, origin);
        string? Full(string? path) =>
            string.IsNullOrWhiteSpace(path) || System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.GetFullPath(path, DataDirectory);

        foreach (CameraOptions camera in Capture.Cameras.Where(c => c is not null))
        {
            if (camera.ResolveKind() is CameraSourceKind.File or CameraSourceKind.ImageFolder && !camera.Source.Contains("://", StringComparison.Ordinal))
            {
                camera.Source = Full(camera.Source.Trim())!;
            }
        }

        if (!Inference.Model.Contains(':', StringComparison.Ordinal))
        {
            Inference.Model = Full(Inference.Model)!;
        }

        Inference.Providers.TensorRt.EngineCacheDir = Full(Inference.Providers.TensorRt.EngineCacheDir)!;
        Inference.Providers.TensorRt.TimingCacheDir = Full(Inference.Providers.TensorRt.TimingCacheDir);
        Mqtt.Outbox.Directory = Full(Mqtt.Outbox.Directory)!;
        Mqtt.Broker.RetainedFile = Full(Mqtt.Broker.RetainedFile);
        Mqtt.Tls.CaFile = Full(Mqtt.Tls.CaFile);
        Mqtt.Tls.ClientCertFile = Full(Mqtt.Tls.ClientCertFile);
        Mqtt.Tls.ClientKeyFile = Full(Mqtt.Tls.ClientKeyFile);
    }

    private static void BindSection(IConfiguration configuration, string name, object target, List<string> problems)
    {
        try
        {
            configuration.GetSection(name).Bind(target, o => o.ErrorOnUnknownConfiguration = false);
        }
        catch (InvalidOperationException ex)
        {
            problems.Add($"{name}: {ex.Message}");
        }
    }
}
