using System.Device.Gpio;
using System.Reflection;
using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Capture.Triggers;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Inference.Pipeline;
using LlavaUhd.Edge.Inference.Providers;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Broker;
using LlavaUhd.Edge.Messaging.HomeAssistant;
using LlavaUhd.Edge.Messaging.SparkplugB;
using LlavaUhd.Edge.Messaging.Outbox;
using LlavaUhd.Edge.Service.Frames;
using LlavaUhd.Edge.Service.Hosting;
using LlavaUhd.Edge.Service.Http;
using LlavaUhd.Edge.Service.Options;
using LlavaUhd.Edge.Service.Work;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace LlavaUhd.Edge.Service;

/// <summary>
/// The composition root: the only place adapters (cameras, GPIO, model, outbox, broker, MQTT client) are created.
/// <c>LlavaUhd.Edge.Service [--config FILE] [--max-answers N] [--Section:Key=value …]</c>.
/// </summary>
internal static class Program
{
    /// <summary>Environment variables with this prefix override configuration keys (<c>LLAVA_EDGE_Mqtt__Host=…</c>).</summary>
    public const string EnvironmentPrefix = "LLAVA_EDGE_";

    public const int ExitOk = 0;
    public const int ExitInvalidConfiguration = 2;
    public const int ExitStartFailed = 3;

    private static readonly Dictionary<string, string> s_switches = new(StringComparer.Ordinal)
    {
        ["--max-answers"] = "Service:MaxAnswers",
        ["--config"] = "Service:ConfigFile",
    };

    public static async Task<int> Main(string[] args)
    {
        IHost host;
        try
        {
            host = Build(args);
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"Invalid configuration ({ex.Failures.Count()} problems):").ConfigureAwait(false);
            foreach (string failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("  - " + failure).ConfigureAwait(false);
            }

            return ExitInvalidConfiguration;
        }
        catch (Exception ex) when (ex is FormatException or FileNotFoundException or InvalidDataException)
        {
            await Console.Error.WriteLineAsync("Invalid configuration: " + DescribeLoadError(ex, args)).ConfigureAwait(false);
            return ExitInvalidConfiguration;
        }

        try
        {
            // the model first: it checks the standing questions, a configuration problem found once the model is open
            _ = host.Services.GetRequiredService<IVisionLanguageModel>();
            await host.RunAsync().ConfigureAwait(false);
            return ExitOk;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"Invalid configuration ({ex.Failures.Count()} problems):").ConfigureAwait(false);
            foreach (string failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("  - " + failure).ConfigureAwait(false);
            }

            host.Dispose();
            return ExitInvalidConfiguration;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"The service failed to start or run: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
            return ExitStartFailed;
        }
    }

    /// <summary>
    /// Builds the host: configuration (<c>--config FILE</c> or else the embedded demo defaults <c>appsettings.json</c>,
    /// then <c>LLAVA_EDGE_</c> environment variables, then the command line), validated at once — an invalid configuration
    /// throws <see cref="OptionsValidationException"/> listing every problem — and the composition.
    /// </summary>
    /// <param name="openModel">Opens the model; null: <c>VlmPipeline.Open</c> (tests pass a model of their own).</param>
    /// <param name="publisher">
    /// Null (the service): the MQTT client is the outbound port. Tests where the broker is not the subject pass a port
    /// of their own: the service is then composed without MQTT (no client, no embedded broker, no <c>MqttService</c>,
    /// so nothing is asked over MQTT) and publishes through it (docs/architecture.md). Not with the decoder role,
    /// Sparkplug B or Home Assistant, which need the broker themselves.
    /// </param>
    public static IHost Build(
        string[] args,
        Func<EdgeConfiguration, ILoggerFactory, IVisionLanguageModel>? openModel = null,
        Action<ILoggingBuilder>? logging = null,
        IEdgePublisher? publisher = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var configuration = new ConfigurationManager();
        AddConfiguration(configuration, args);
        EdgeConfiguration config = EdgeConfiguration.Load(configuration);

        // With Http:Port set the host is a WebApplication (the same generic host, plus Kestrel and the endpoints of
        // docs/http.md); without it, a plain host with no web server at all.
        IHostApplicationBuilder builder;
        WebApplicationBuilder? web = null;
        if (config.Http.Enabled)
        {
            web = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
            {
                ApplicationName = ApplicationName,
                ContentRootPath = Directory.GetCurrentDirectory(),
            });
            web.Configuration.AddConfiguration(configuration);
            web.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(config.Http.EndPoint()));
            web.Services.AddRoutingCore();
            builder = web;
        }
        else
        {
            builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
            {
                DisableDefaults = true,
                ApplicationName = ApplicationName,
                ContentRootPath = Directory.GetCurrentDirectory(),
                Configuration = configuration,
            });
        }

        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        logging?.Invoke(builder.Logging);
        builder.Services.AddSystemd();   // Type=notify (READY=1/STOPPING=1) and journal log format under systemd; no-op otherwise
        // the outbox drain on stop, plus time for the rest of the shutdown
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(config.Service.ShutdownDrainSeconds + 10));
        var metrics = new EdgeMetrics();
        builder.Services.AddSingleton(_ => metrics);   // a factory registration: the container disposes it (and its Meter)
        Compose(builder.Services, config, openModel ?? ((c, l) => OpenPipeline(c, l)), publisher);
        if (web is null)
        {
            return ((HostApplicationBuilder)builder).Build();
        }

        // /metrics: OpenTelemetry's Prometheus exporter, reading this host's Meter only (several hosts may share a
        // process, as in the tests; the meter name alone would mix their instruments).
        web.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(EdgeMetrics.MeterName)
            .AddView(instrument => ReferenceEquals(instrument.Meter, metrics.Meter) ? null : MetricStreamConfiguration.Drop)
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        WebApplication app = web.Build();
        HttpEndpoints.Map(app);
        return app;
    }

    private const string ApplicationName = "LlavaUhd.Edge.Service";

    /// <summary>A configuration file that cannot be read: which file, and for malformed JSON the line and column.</summary>
    internal static string DescribeLoadError(Exception ex, string[] args)
    {
        string file = ConfigFile(args) is { } f ? Path.GetFullPath(f) : Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is System.Text.Json.JsonException { LineNumber: long line } json)
            {
                // JsonException counts from 0; editors count lines and columns from 1
                string problem = json.Message.Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
                return $"{file}: line {line + 1}, column {(json.BytePositionInLine ?? 0) + 1}: {problem}.";
            }
        }

        return ex is FileNotFoundException ? ex.Message : $"{file}: {ex.Message}";
    }

    /// <summary>The configuration layers in order; later ones override earlier ones.</summary>
    public static void AddConfiguration(IConfigurationBuilder configuration, string[] args)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // A device config is complete: it replaces the embedded demo defaults rather than being layered on them
        // (JSON arrays such as cameras and questions would otherwise merge item by item).
        string file = ConfigFile(args) is { } f ? Path.GetFullPath(f) : Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        configuration.AddJsonFile(file, optional: false, reloadOnChange: false);

        configuration.AddEnvironmentVariables(EnvironmentPrefix);
        configuration.AddCommandLine(args, s_switches);
    }

    /// <summary>The value of <c>--config FILE</c> or <c>--config=FILE</c>, if given.</summary>
    public static string? ConfigFile(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config" && i + 1 < args.Length)
            {
                return args[i + 1];
            }

            if (args[i].StartsWith("--config=", StringComparison.Ordinal))
            {
                return args[i]["--config=".Length..];
            }
        }

        return null;
    }

    /// <summary>A standing question the model cannot be asked is a configuration error, found at start (not at every firing).</summary>
    private static void CheckStandingQuestions(EdgeConfiguration config, IVisionLanguageModel model)
    {
        var failures = new List<string>();
        for (int i = 0; i < config.Service.Questions.Count; i++)
        {
            if (model.CheckQuestion(config.Service.Questions[i].Question) is { } problem)
            {
                failures.Add($"Service:Questions:{i}:Question ({config.Service.Questions[i].Name}): {problem.Code}: {problem.Message}");
            }
        }

        if (failures.Count > 0)
        {
            model.Dispose();
            throw new OptionsValidationException("Service:Questions", typeof(EdgeConfiguration), failures);
        }
    }

    private static void Compose(IServiceCollection services, EdgeConfiguration config, Func<EdgeConfiguration, ILoggerFactory, IVisionLanguageModel> openModel, IEdgePublisher? publisher)
    {
        if (publisher is not null && (config.Service.IsDecoder || config.Mqtt.SparkplugB.Enabled || config.Mqtt.HomeAssistant.Enabled))
        {
            throw new ArgumentException("Without MQTT (a port of its own) there is no decoder role, Sparkplug B or Home Assistant: they need the broker.", nameof(publisher));
        }

        string[] cameraIds = [.. config.Capture.Cameras.Select(c => c.Id)];
        var runtimes = config.Capture.Cameras.ToDictionary(c => c.Id, c => new CameraRuntime(c), StringComparer.Ordinal);
        foreach (StandingQuestionOptions q in config.Service.Questions)
        {
            runtimes[q.Camera].Add(new StandingQuestion(q, config.Inference.ParsedProfile, config.Inference.MaxNewTokens));
        }

        services.AddSingleton(config);
        services.AddSingleton(sp => new PersistedSettings(config.Mqtt.Outbox.Directory, sp.GetRequiredService<ILogger<PersistedSettings>>()));
        services.AddSingleton<IReadOnlyDictionary<string, CameraRuntime>>(sp =>
        {
            sp.GetRequiredService<PersistedSettings>().Restore(runtimes);   // settings changed over MQTT before the last stop
            return runtimes;
        });
        services.AddSingleton(new LatencyStats());
        services.AddSingleton(_ => new FrameStore(cameraIds, config.Service.FrameHistory));
        services.AddSingleton(_ => new CameraManager(config.Capture));
        services.AddSingleton(sp =>
        {
            IVisionLanguageModel model = openModel(config, sp.GetRequiredService<ILoggerFactory>());
            CheckStandingQuestions(config, model);
            return model;
        });
        services.AddSingleton(sp => new ModelWorker(
            sp.GetRequiredService<IVisionLanguageModel>(), sp.GetRequiredService<FrameStore>(), sp.GetRequiredService<LatencyStats>(),
            config.Service.QueueDepth, sp.GetRequiredService<ILogger<ModelWorker>>(), config.Service.MaxBatch, sp.GetRequiredService<EdgeMetrics>()));
        services.AddSingleton(sp => new AnswerCounter(config.Service.MaxAnswers, sp.GetRequiredService<IHostApplicationLifetime>().StopApplication));
        services.AddSingleton(sp => new QuestionService(
            sp.GetRequiredService<IReadOnlyDictionary<string, CameraRuntime>>(), sp.GetRequiredService<FrameStore>(), sp.GetRequiredService<ModelWorker>(), sp.GetRequiredService<AnswerCounter>(),
            config, sp.GetRequiredService<ILogger<QuestionService>>(), sp.GetRequiredService<PersistedSettings>()));
        services.AddSingleton(sp => AnswerOutbox.Open(config.Mqtt.Outbox, sp.GetRequiredService<ILogger<AnswerOutbox>>()));
        if (publisher is not null)
        {
            services.AddSingleton(publisher);   // tests: the outbound port without MQTT (see Build)
        }
        else
        {
            AddMqtt(services, config, cameraIds);
        }

        if (config.Service.IsEncoder)
        {
            services.AddSingleton(sp => new TokenPublisher(sp.GetRequiredService<IEdgePublisher>(), config.Service.Tokens, sp.GetRequiredService<ILogger<TokenPublisher>>()));
        }

        AddIntegrations(services, config, config.Service.IsDecoder ? [.. config.Service.Tokens.Cameras] : cameraIds);
        IReadOnlyDictionary<string, MotionWatcher> motion = config.Service.IsDecoder ? new Dictionary<string, MotionWatcher>() : MotionWatchers(config);
        services.AddSingleton(sp => new CaptureService(
            config.Service.IsDecoder ? null : sp.GetRequiredService<CameraManager>(), sp.GetRequiredService<FrameStore>(), sp.GetRequiredService<ILogger<CaptureService>>(), motion));

        // GPIO only when a GPIO or PIR trigger or an output is configured (opening the controller fails on machines without one).
        TriggerOptions t = config.Triggers;
        bool gpio = t.Gpio.Count + t.Pir.Count + t.Outputs.Count > 0;
        if (gpio)
        {
            services.AddSingleton(_ => new GpioController());
        }

        services.AddSingleton<IReadOnlyList<Trigger>>(sp =>
        {
            var triggers = new List<Trigger>();
            triggers.AddRange(t.Interval.Select(o => new IntervalTrigger(o)));
            triggers.AddRange(motion.Values.SelectMany(w => w.Triggers));
            if (gpio)
            {
                GpioController controller = sp.GetRequiredService<GpioController>();
                triggers.AddRange(t.Gpio.Select(o => new GpioTrigger(controller, o)));
                triggers.AddRange(t.Pir.Select(o => new PirTrigger(controller, o)));
            }

            return triggers;
        });
        services.AddSingleton<IReadOnlyList<GpioOutput>>(sp =>
            gpio ? [.. t.Outputs.Select(o => new GpioOutput(sp.GetRequiredService<GpioController>(), o))] : []);
        services.AddSingleton(sp => new StandingQuestionService(
            sp.GetRequiredService<IReadOnlyDictionary<string, CameraRuntime>>(), sp.GetRequiredService<FrameStore>(), sp.GetRequiredService<ModelWorker>(), sp.GetRequiredService<IEdgePublisher>(),
            sp.GetRequiredService<AnswerCounter>(), sp.GetRequiredService<IReadOnlyList<Trigger>>(), sp.GetRequiredService<IReadOnlyList<GpioOutput>>(),
            config.Mqtt.DeviceId, sp.GetRequiredService<ILogger<StandingQuestionService>>(), sp.GetService<TokenPublisher>()));
        services.AddSingleton(sp => new StatusService(
            new ServiceInfo(config.Mqtt.DeviceId, Versions(), EngineState(sp)),
            sp.GetRequiredService<IEdgePublisher>(), sp.GetRequiredService<AnswerOutbox>(), sp.GetRequiredService<ModelWorker>(),
            sp.GetRequiredService<CaptureService>(), sp.GetRequiredService<QuestionService>(), sp.GetRequiredService<IReadOnlyDictionary<string, CameraRuntime>>(), sp.GetRequiredService<LatencyStats>(),
            config.Mqtt.StatsIntervalSeconds, sp.GetRequiredService<ILogger<StatusService>>()));

        services.AddSingleton(new AnswerLog());
        services.AddSingleton(sp => new MetricsService(
            sp.GetRequiredService<EdgeMetrics>(), sp.GetRequiredService<IEdgePublisher>(), sp.GetRequiredService<AnswerLog>(), sp.GetRequiredService<ModelWorker>(),
            sp.GetRequiredService<LatencyStats>(), sp.GetRequiredService<CaptureService>(), sp.GetRequiredService<AnswerOutbox>()));
        IReadOnlyDictionary<string, IReadOnlyList<ZoneOptions>> zones = config.Capture.Cameras.ToDictionary(
            c => c.Id, c => (IReadOnlyList<ZoneOptions>)[.. c.Zones], StringComparer.Ordinal);
        services.AddSingleton(sp => new SnapshotRenderer(sp.GetRequiredService<FrameStore>(), zones, motion));
        if (config.Service.PublishSnapshots)
        {
            services.AddSingleton(sp => new SnapshotPublisher(
                sp.GetRequiredService<IEdgePublisher>(), sp.GetRequiredService<SnapshotRenderer>(), cameraIds, sp.GetRequiredService<EdgeMetrics>(),
                sp.GetRequiredService<ILogger<SnapshotPublisher>>()));
        }

        // Started in this order, stopped in reverse: MQTT last to stop, so the last answers still go out; the
        // integrations right after it, so they follow every answer and their NDEATH leaves before the broker stops.
        if (publisher is null)
        {
            services.AddHostedService(sp => sp.GetRequiredService<MqttService>());
        }

        services.AddHostedService(sp => new IntegrationsService(
            sp.GetRequiredService<IEdgePublisher>(), sp.GetRequiredService<CaptureService>(), sp.GetService<SparkplugPublisher>(), sp.GetService<HomeAssistantPublisher>(),
            sp.GetRequiredService<ILogger<IntegrationsService>>()));
        services.AddHostedService(sp => sp.GetRequiredService<CaptureService>());
        services.AddHostedService(sp => sp.GetRequiredService<ModelWorker>());
        services.AddHostedService(sp => sp.GetRequiredService<StandingQuestionService>());
        services.AddHostedService(sp => sp.GetRequiredService<StatusService>());
        services.AddHostedService(sp => sp.GetRequiredService<MetricsService>());
        if (config.Service.PublishSnapshots)
        {
            services.AddHostedService(sp => sp.GetRequiredService<SnapshotPublisher>());
        }
    }

    /// <summary>
    /// The MQTT side: the client (its inbound handler the <see cref="QuestionService"/>, or a decoder's
    /// <see cref="TokenStore"/>), the outbound port it implements, and the <see cref="MqttService"/> that runs it with
    /// the embedded broker when configured.
    /// </summary>
    private static void AddMqtt(IServiceCollection services, EdgeConfiguration config, string[] cameraIds)
    {
        if (config.Service.IsDecoder)
        {
            // Decoder: no cameras of its own; questions are answered from the latest packets of the source device. The
            // store is the client's inbound handler and publishes its refusals through the client's outbound port, so
            // the client is made first and the store attached to it (before MqttService starts the client).
            services.AddSingleton(sp => new EdgeMqttClient(config.Mqtt, config.Service.Tokens.Cameras, sp.GetRequiredService<AnswerOutbox>(), null, null, sp.GetRequiredService<ILogger<EdgeMqttClient>>()));
            services.AddSingleton(sp =>
            {
                EdgeMqttClient client = sp.GetRequiredService<EdgeMqttClient>();
                var store = new TokenStore(
                    sp.GetRequiredService<IVisionLanguageModel>(), sp.GetRequiredService<AnswerCounter>(), config.Service.Tokens.Cameras,
                    config.Inference.MaxNewTokens, config.Service.Tokens.MaxPacketBytes, client, sp.GetRequiredService<ILogger<TokenStore>>());
                client.Handle(store, store);
                client.Subscribe(TokenSource(config).TokensFilter, store.OnPacket);
                return store;
            });
        }
        else
        {
            services.AddSingleton(sp =>
            {
                QuestionService questions = sp.GetRequiredService<QuestionService>();
                return new EdgeMqttClient(config.Mqtt, cameraIds, sp.GetRequiredService<AnswerOutbox>(), questions, questions, sp.GetRequiredService<ILogger<EdgeMqttClient>>());
            });
        }

        services.AddSingleton<IEdgePublisher>(sp => sp.GetRequiredService<EdgeMqttClient>());   // the outbound port (docs/architecture.md)

        services.AddSingleton(sp =>
        {
            // the discovery publisher subscribes to Home Assistant's status topic: it must exist before the client starts
            _ = sp.GetService<HomeAssistantPublisher>();
            _ = sp.GetService<TokenStore>();   // a decoder's store attaches itself to the client: before it starts
            return new MqttService(
                config.Mqtt.EmbeddedBroker ? EmbeddedBroker.FromOptions(config.Mqtt, sp.GetRequiredService<ILogger<EmbeddedBroker>>()) : null,
                sp.GetRequiredService<EdgeMqttClient>(), sp.GetRequiredService<AnswerOutbox>(), sp.GetRequiredService<ILogger<MqttService>>(),
                TimeSpan.FromSeconds(config.Service.ShutdownDrainSeconds));
        });
    }

    /// <summary>
    /// The optional Sparkplug B node and Home Assistant discovery (docs/sparkplug-b.md, docs/home-assistant.md), both
    /// describing <paramref name="cameras"/> and the standing questions of those cameras.
    /// </summary>
    private static void AddIntegrations(IServiceCollection services, EdgeConfiguration config, string[] cameras)
    {
        StandingQuestionOptions[] questions = [.. config.Service.Questions.Where(q => cameras.Contains(q.Camera, StringComparer.Ordinal))];
        if (config.Mqtt.SparkplugB.Enabled)
        {
            services.AddSingleton(sp =>
            {
                ModelWorker worker = sp.GetRequiredService<ModelWorker>();
                var node = new SparkplugNode(
                    new SparkplugTopics(config.Mqtt.SparkplugB.GroupId, config.Mqtt.EffectiveEdgeNodeId),
                    new SparkplugNodeInfo(config.Mqtt.DeviceId, worker.Model.ModelId, worker.Model.Provider, Versions()["service"]),
                    cameras,
                    questions.Select(q => new SparkplugQuestion(q.Camera, q.Name, q.ParseAnswerType())));
                EdgeMqttClient client = sp.GetRequiredService<EdgeMqttClient>();
                return new SparkplugPublisher(config.Mqtt, node, () => worker.Depth + client.QueueDepth, sp.GetRequiredService<ILogger<SparkplugPublisher>>());
            });
        }

        if (config.Mqtt.HomeAssistant.Enabled)
        {
            services.AddSingleton(sp =>
            {
                EdgeMqttClient client = sp.GetRequiredService<EdgeMqttClient>();
                var discovery = new HomeAssistantDiscovery(
                    config.Mqtt.HomeAssistant, client.Topics,
                    new HomeAssistantDevice(config.Mqtt.DeviceId, config.Mqtt.DeviceId, sp.GetRequiredService<ModelWorker>().Model.ModelId, Versions()["service"]),
                    cameras,
                    questions.Select(q => new HomeAssistantQuestion(q.Camera, q.Name, q.ParseAnswerType())));
                return new HomeAssistantPublisher(client, discovery, sp.GetRequiredService<ILogger<HomeAssistantPublisher>>());
            });
        }
    }

    /// <summary>
    /// One <see cref="MotionWatcher"/> per camera watched by a motion trigger: the trigger's <c>CameraId</c>, else the
    /// cameras of the standing questions bound to it. Each (trigger, camera) pair has its own <see cref="MotionTrigger"/>
    /// (its own cooldown); the camera's <c>Motion</c> settings, or the defaults, drive its detector.
    /// </summary>
    private static Dictionary<string, MotionWatcher> MotionWatchers(EdgeConfiguration config)
    {
        var triggers = new Dictionary<string, List<MotionTrigger>>(StringComparer.Ordinal);
        foreach (MotionTriggerOptions m in config.Triggers.Motion)
        {
            IEnumerable<string> cameras = !string.IsNullOrEmpty(m.CameraId)
                ? [m.CameraId]
                : config.Service.Questions.Where(q => q.Trigger == m.Name).Select(q => q.Camera).Distinct(StringComparer.Ordinal);
            foreach (string id in cameras)
            {
                CameraOptions? camera = config.Capture.Cameras.FirstOrDefault(c => c.Id == id);
                if (camera is null)
                {
                    continue;
                }

                if (!triggers.TryGetValue(id, out List<MotionTrigger>? list))
                {
                    triggers[id] = list = [];
                }

                list.Add(new MotionTrigger(m, camera.Zones));
            }
        }

        return triggers.ToDictionary(
            p => p.Key,
            p => new MotionWatcher(p.Key, config.Capture.Cameras.First(c => c.Id == p.Key).Motion ?? new(), p.Value, config.Service.MotionChecksPerSecond),
            StringComparer.Ordinal);
    }

    /// <summary>Decoder: the topics of the encoder device (<c>Service:Tokens:SourcePrefix</c>/<c>SourceDevice</c>, else this device's).</summary>
    public static MqttTopics TokenSource(EdgeConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        TokenOptions t = config.Service.Tokens;
        return new MqttTopics(
            string.IsNullOrEmpty(t.SourcePrefix) ? config.Mqtt.TopicPrefix : t.SourcePrefix,
            string.IsNullOrEmpty(t.SourceDevice) ? config.Mqtt.DeviceId : t.SourceDevice);
    }

    private static VlmPipeline OpenPipeline(EdgeConfiguration config, ILoggerFactory loggers) =>
        VlmPipeline.Open(config.Inference, loggers.CreateLogger<VlmPipeline>());

    /// <summary>The TensorRT engine state from the session factory: building, ready, or none (no TensorRT session).</summary>
    private static Func<string> EngineState(IServiceProvider sp)
    {
        IVisionLanguageModel model = sp.GetRequiredService<IVisionLanguageModel>();
        return () =>
        {
            if (model is not VlmPipeline pipeline)
            {
                return "none";
            }

            IReadOnlyCollection<SessionStatus> sessions = pipeline.SessionFactory.Status;
            return sessions.Any(s => s.State == SessionStatus.Building) ? SessionStatus.Building
                : sessions.Any(s => s.Provider == ProviderNames.TensorRt) ? SessionStatus.Ready
                : "none";
        };
    }

    private static Dictionary<string, string> Versions()
    {
        static string Of(Assembly a) =>
            a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? a.GetName().Version?.ToString() ?? "?";

        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["service"] = Of(typeof(Program).Assembly),
            ["dotnet"] = Environment.Version.ToString(),
            ["onnxruntime"] = Of(typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly),
            ["mqttnet"] = Of(typeof(MQTTnet.MqttClientFactory).Assembly),
            ["opencv"] = OpenCvSharp.Cv2.GetVersionString() ?? "?",
        };
    }
}
