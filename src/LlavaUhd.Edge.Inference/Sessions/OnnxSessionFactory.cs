using System.Collections.Concurrent;
using System.Diagnostics;
using LlavaUhd.Edge.Inference.Errors;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlavaUhd.Edge.Inference.Sessions;

/// <summary>
/// Creates every ONNX Runtime session of the project: one place for providers and threads. Providers are tried in
/// the configured order (TensorRT → CUDA → CPU by default) with a fresh <see cref="SessionOptions"/> each; a provider
/// that is missing from the native build or cannot load (<see cref="OnnxRuntimeException"/>,
/// <see cref="EntryPointNotFoundException"/>, <see cref="DllNotFoundException"/>) is skipped with one log line naming it
/// and the reason. TensorRT engine builds are reported while they run (they take minutes on a Jetson).
/// </summary>
public sealed class OnnxSessionFactory
{
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, SessionStatus> _status = new(StringComparer.Ordinal);

    public OnnxSessionFactory(OnnxSessionOptions? options = null, ILogger? logger = null)
    {
        Options = options ?? new OnnxSessionOptions();
        _logger = logger ?? NullLogger.Instance;
        if (Options.Providers is { } providers)
        {
            IReadOnlyList<string> problems = providers.Problems();
            if (problems.Count > 0)
            {
                throw new ArgumentException(string.Join(" ", problems), nameof(options));
            }
        }
    }

    public OnnxSessionOptions Options { get; }

    /// <summary>Every session created so far, with its provider and state (for the service's status topic).</summary>
    public IReadOnlyCollection<SessionStatus> Status => [.. _status.Values.OrderBy(s => s.Session, StringComparer.Ordinal)];

    /// <summary>The provider most sessions run on (the first session's), or "cpu" before any was created.</summary>
    public string Provider => _status.Values.Select(s => s.Provider).FirstOrDefault() ?? ProviderNames.Cpu;

    /// <summary>The providers this ONNX Runtime build lists (a GPU build lists TensorRT/CUDA even without a GPU).</summary>
    public static IReadOnlyList<string> AvailableProviders() => OrtEnv.Instance().GetAvailableProviders();

    /// <summary>
    /// Opens <paramref name="path"/> on the first provider of the chain that works.
    /// </summary>
    /// <param name="path">The ONNX file.</param>
    /// <param name="displayName">The name used in errors, logs and status (e.g. <c>onnx/vision_encoder.onnx</c>).</param>
    /// <param name="cacheKey">Identifies the model in the TensorRT engine cache (its sha256); engines live in a folder per key and precision.</param>
    /// <param name="profile">TensorRT shape profile (min/opt/max per dynamic input) so every slicing shape reuses one engine.</param>
    /// <param name="role">The package's session name (<see cref="Models.SessionNames"/>), for settings that differ by role.</param>
    public InferenceSession Create(string path, string? displayName = null, string? cacheKey = null, ShapeProfile? profile = null, string? role = null)
    {
        string name = displayName ?? Path.GetFileName(path);
        ExecutionProviderOptions? chain = Options.Providers;
        IEnumerable<string> order = chain?.Order ?? [ProviderNames.Cpu];
        var fallbacks = new List<string>();
        foreach (string provider in order)
        {
            SessionOptions so = BaseOptions(name, role);
            try
            {
                Append(so, provider, chain, cacheKey, profile);
                InferenceSession session = provider == ProviderNames.TensorRt ? BuildWithProgress(path, so, name, fallbacks) : new InferenceSession(path, so);
                _status[name] = new SessionStatus(name, provider, SessionStatus.Ready, DateTimeOffset.UtcNow, null, fallbacks);
                if (fallbacks.Count > 0 || provider != ProviderNames.Cpu)
                {
                    _logger.LogInformation("{Session} runs on {Provider}", name, provider);
                }

                return session;
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or NotSupportedException)
            {
                string reason = FirstLine(ex.Message);
                if (provider == chain?.Require)
                {
                    throw new ProviderUnavailableException(
                        $"{name}: the configuration requires the {provider} execution provider, but it is not available: {reason}. " +
                        $"This ONNX Runtime build lists: {string.Join(", ", AvailableProviders())}.",
                        ex);
                }

                if (provider == ProviderNames.Cpu)
                {
                    throw new ModelPackageException(name, $"ONNX Runtime cannot load it: {ex.Message}", ex);
                }

                fallbacks.Add($"{provider}: {reason}");
                _logger.LogWarning("{Session}: {Provider} execution provider unavailable, falling back: {Reason}", name, provider, reason);
            }
            finally
            {
                so.Dispose();
            }
        }

        throw new ProviderUnavailableException($"{name}: no execution provider of [{string.Join(", ", order)}] could load it ({string.Join("; ", fallbacks)}).");
    }

    /// <summary>The inputs of a session as the manifest records them, in graph order.</summary>
    public static List<ManifestTensor> Describe(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata) =>
        names.Select(n => new ManifestTensor(n, DTypeName(metadata[n]), metadata[n].Dimensions.Select(d => (long)d).ToArray())).ToList();

    public static string DTypeName(NodeMetadata metadata) =>
        !metadata.IsTensor ? "non-tensor" : metadata.ElementDataType switch
        {
            TensorElementType.Float => TensorDTypes.Float32,
            TensorElementType.Float16 => TensorDTypes.Float16,
            TensorElementType.Int64 => TensorDTypes.Int64,
            TensorElementType.Int32 => TensorDTypes.Int32,
            TensorElementType.Int8 => TensorDTypes.Int8,
            TensorElementType.UInt8 => TensorDTypes.Uint8,
            TensorElementType.Bool => TensorDTypes.Bool,
            TensorElementType other => other.ToString().ToLowerInvariant(),
        };

    /// <summary>
    /// The memory settings a session gets (docs/memory.md): which CPU arena, the memory pattern, and the session config
    /// entries that select them (<c>session.use_env_allocators</c>, <c>session.disable_prepacking</c>).
    /// </summary>
    public (bool CpuArena, bool MemoryPattern, IReadOnlyDictionary<string, string> ConfigEntries) MemorySettings()
    {
        CpuOptions? cpu = Options.Providers?.Cpu;
        string arena = cpu?.MemoryArena ?? Options.MemoryArena;
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        if (arena == CpuArenas.Shared)
        {
            entries["session.use_env_allocators"] = "1";
        }

        if (cpu is { Prepacking: false })
        {
            entries["session.disable_prepacking"] = "1";
        }

        return (arena != CpuArenas.Off, cpu?.MemoryPattern ?? false, entries);
    }

    private SessionOptions BaseOptions(string name, string? role)
    {
        CpuOptions? cpu = Options.Providers?.Cpu;
        int threads = Options.IntraOpThreads != 0 ? Options.IntraOpThreads : cpu?.IntraOpThreads ?? 0;
        if (threads == 0)
        {
            // An explicit count: ONNX Runtime's own default (0) pins its workers to cores, and the caller thread that
            // joins each operator then competes with a pinned spinning worker (docs/cpu-decoder.md, "Threads").
            threads = Environment.ProcessorCount;
        }
        (bool cpuArena, bool memoryPattern, IReadOnlyDictionary<string, string> entries) = MemorySettings();
        if (entries.ContainsKey("session.use_env_allocators"))
        {
            SharedCpuArena.EnsureRegistered();
        }

        var so = new SessionOptions
        {
            GraphOptimizationLevel = cpu is null ? Options.OptimizationLevel : ParseLevel(cpu.OptimizationLevel),
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            InterOpNumThreads = 1,
            IntraOpNumThreads = threads,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            EnableCpuMemArena = cpuArena,
            EnableMemoryPattern = memoryPattern,
        };
        string spinning = cpu?.Spinning ?? CpuSpinning.Off;
        bool spin = spinning == CpuSpinning.All || (spinning == CpuSpinning.Decoder && role == Models.SessionNames.Decoder);
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin ? "1" : "0");
        foreach ((string key, string value) in entries)
        {
            so.AddSessionConfigEntry(key, value);
        }

        if (cpu?.OptimizedModelDir is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            so.OptimizedModelFilePath = Path.Combine(dir, name.Replace('/', '_') + ".opt.onnx");
        }

        if (cpu?.ProfileDir is { Length: > 0 } profileDir)
        {
            Directory.CreateDirectory(profileDir);
            so.ProfileOutputPathPrefix = Path.Combine(profileDir, name.Replace('/', '_'));
            so.EnableProfiling = true; // after the prefix: the setter hands ONNX Runtime the prefix it holds then
        }

        return so;
    }

    private static void Append(SessionOptions so, string provider, ExecutionProviderOptions? chain, string? cacheKey, ShapeProfile? profile)
    {
        switch (provider)
        {
            case ProviderNames.Cpu:
                return;
            case ProviderNames.Cuda:
            {
                using var cuda = new OrtCUDAProviderOptions();
                cuda.UpdateOptions(new Dictionary<string, string> { ["device_id"] = (chain?.Cuda.DeviceId ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture) });
                so.AppendExecutionProvider_CUDA(cuda);
                return;
            }

            case ProviderNames.TensorRt:
            {
                TensorRtOptions t = chain?.TensorRt ?? new TensorRtOptions();
                using var trt = new OrtTensorRTProviderOptions();
                trt.UpdateOptions(TensorRtSettings(t, cacheKey, profile));
                so.AppendExecutionProvider_Tensorrt(trt);

                // Nodes TensorRT cannot take fall back to CUDA, then CPU (ONNX Runtime's recommended order).
                using var cuda = new OrtCUDAProviderOptions();
                cuda.UpdateOptions(new Dictionary<string, string> { ["device_id"] = t.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                so.AppendExecutionProvider_CUDA(cuda);
                return;
            }

            default:
                throw new NotSupportedException($"unknown execution provider '{provider}'");
        }
    }

    /// <summary>The TensorRT EP's option keys for <paramref name="t"/>; engines are cached per model hash and precision.</summary>
    public static Dictionary<string, string> TensorRtSettings(TensorRtOptions t, string? cacheKey, ShapeProfile? profile)
    {
        ArgumentNullException.ThrowIfNull(t);
        string precision = t.Int8 ? "int8" : t.Fp16 ? "fp16" : "fp32";
        string engineDir = Path.Combine(t.EngineCacheDir, $"{(cacheKey is { Length: >= 16 } ? cacheKey[..16] : cacheKey ?? "model")}-{precision}");
        var settings = new Dictionary<string, string>
        {
            ["device_id"] = t.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["trt_fp16_enable"] = t.Fp16 ? "1" : "0",
            ["trt_int8_enable"] = t.Int8 ? "1" : "0",
            ["trt_engine_cache_enable"] = "1",
            ["trt_engine_cache_path"] = engineDir,
            ["trt_timing_cache_enable"] = "1",
            ["trt_timing_cache_path"] = t.TimingCacheDir ?? t.EngineCacheDir,
            ["trt_max_workspace_size"] = t.WorkspaceBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["trt_builder_optimization_level"] = t.BuilderOptimizationLevel.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (t.DlaCore is int dla)
        {
            settings["trt_dla_enable"] = "1";
            settings["trt_dla_core"] = dla.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (profile is not null)
        {
            settings["trt_profile_min_shapes"] = profile.Min;
            settings["trt_profile_opt_shapes"] = profile.Opt;
            settings["trt_profile_max_shapes"] = profile.Max;
        }

        return settings;
    }

    private InferenceSession BuildWithProgress(string path, SessionOptions so, string name, List<string> fallbacks)
    {
        DateTimeOffset since = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        _status[name] = new SessionStatus(name, ProviderNames.TensorRt, SessionStatus.Building, since, TimeSpan.Zero, fallbacks);
        _logger.LogInformation("{Session}: building or loading the TensorRT engine (minutes on a first start)", name);
        using var progress = new Timer(
            _ =>
            {
                _status[name] = new SessionStatus(name, ProviderNames.TensorRt, SessionStatus.Building, since, clock.Elapsed, fallbacks);
                _logger.LogInformation("{Session}: TensorRT engine build running for {Elapsed:mm\\:ss}", name, clock.Elapsed);
            },
            null,
            TimeSpan.FromSeconds(30),
            TimeSpan.FromSeconds(30));
        InferenceSession session = new(path, so);
        _logger.LogInformation("{Session}: TensorRT engine ready after {Elapsed:mm\\:ss}", name, clock.Elapsed);
        return session;
    }

    private static GraphOptimizationLevel ParseLevel(string level) => level.ToLowerInvariant() switch
    {
        "disable" or "none" => GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    private static string FirstLine(string message)
    {
        int nl = message.IndexOf('\n', StringComparison.Ordinal);
        return (nl < 0 ? message : message[..nl]).Trim();
    }
}
