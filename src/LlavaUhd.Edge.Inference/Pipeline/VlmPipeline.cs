using System.Buffers;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LlavaUhd.Edge.Core.Compression;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Schema;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>
/// The engine: region → plan → pixels → vision encoder → compression (connector/resampler, optional entropy pruning)
/// → prompt (chat template + spatial schema, features written at the placeholder positions) → decoder with KV cache.
/// Encoding and answering may run on two threads at once (one request each); each is serialised on its own.
/// </summary>
public sealed class VlmPipeline : IVisionLanguageModel
{
    private readonly ModelSessions _sessions;
    private readonly InferenceOptions _options;
    private readonly ILogger _logger;
    private readonly TokenizerAdapter _tokenizer;
    private readonly VisionEncoder _vision;
    private readonly TextGenerator _generator;
    private readonly PlanExecutor _executor;
    private readonly List<ViewBatch> _batches = [];
    private readonly PromptBuilder _prompts;
    private readonly int[] _reserved;
    private readonly int[] _undecodable;
    private readonly Lock _encodeLock = new();
    private readonly Lock _answerLock = new();
    private ImmutableArray<int> _stops;
    private ImmutableArray<int> _defaultBans;
    private SamplingOptions? _defaultSampling;
    private TokenSampler? _sampler;   // one per model (its scratch is vocabulary-sized): reset per request, under _answerLock
    private readonly Dictionary<string, AnswerConstraint> _constraints = new(StringComparer.Ordinal);
    private TokenVocabulary? _vocabulary;

    /// <summary>Typed answer types whose constraints (and masks) are kept at once.</summary>
    public const int MaxAnswerTypes = 64;
    private float[] _scratch = [];
    private long[] _ids = [];
    private float[] _embeds = [];

    private VlmPipeline(ModelPackage package, ModelSessions sessions, OnnxSessionFactory factory, InferenceOptions options, ILogger logger)
    {
        Package = package;
        _sessions = sessions;
        SessionFactory = factory;
        _options = options;
        _logger = logger;
        ModelManifest m = package.Manifest;
        _tokenizer = new TokenizerAdapter(package.LoadTokenizer());
        _vision = new VisionEncoder(sessions, OrtTime, InferenceOptions.ViewsPerCall(options.MaxViewsPerEncoderCall, factory.Provider), factory.Provider == Providers.ProviderNames.Cpu && factory.MemorySettings().CpuArena);
        _generator = new TextGenerator(sessions, OrtTime, InferenceOptions.PrefillTokensPerCall(options.MaxPrefillTokensPerCall, factory.Provider));
        _prompts = new PromptBuilder(m, _tokenizer, m.Slicing.ToSlicingOptions() with { Overlap = options.SliceOverlap, PreserveAspect = options.PreserveAspect });
        var norm = new Normalization(m.Dimensions.ImageMean[0], m.Dimensions.ImageMean[1], m.Dimensions.ImageMean[2], m.Dimensions.ImageStd[0], m.Dimensions.ImageStd[1], m.Dimensions.ImageStd[2]);
        _executor = new PlanExecutor(new PixelPipelineOptions
        {
            DegreeOfParallelism = options.PixelThreads > 0 ? options.PixelThreads : Environment.ProcessorCount,
            Normalization = norm,
        });
        _reserved = [.. _prompts.ReservedIds];
        // Logit rows the tokenizer has no text for (unused padding rows of the embedding) are never generated.
        _undecodable = [.. Enumerable.Range(0, m.Dimensions.VocabSize).Where(id => !_tokenizer.KnownIds.Contains(id))];
        Encoder = IdentityOf(package);
    }

    public ModelPackage Package { get; }

    /// <summary>Cumulative time inside ONNX Runtime runs (the rest of the wall time is this runtime's own overhead).</summary>
    public OrtClock OrtTime { get; } = new();

    /// <summary>The factory that made the sessions: providers used and TensorRT build state, for status reports.</summary>
    public OnnxSessionFactory SessionFactory { get; }

    public string ModelId => Package.Manifest.Name;

    public string Provider => SessionFactory.Provider;

    public EncoderIdentity Encoder { get; }

    /// <summary>Loads the package (checking files, hashes, contracts and tokenizer) and opens its sessions on the configured providers.</summary>
    public static VlmPipeline Open(InferenceOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> problems = options.Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        logger ??= NullLogger.Instance;
        ModelPackage package = ModelPackage.Load(options.Model, string.IsNullOrEmpty(options.Variant) ? null : options.Variant, options.VerifyHashes);
        var factory = new OnnxSessionFactory(new OnnxSessionOptions { Providers = options.Providers }, logger);
        ModelSessions sessions = package.OpenSessions(factory);
        try
        {
            var pipeline = new VlmPipeline(package, sessions, factory, options, logger);
            logger.LogInformation(
                "model {Model} ({Family}, variant {Variant}) on {Provider}",
                package.Manifest.Name,
                package.Manifest.Family,
                package.Variant,
                pipeline.Provider);
            return pipeline;
        }
        catch
        {
            sessions.Dispose();
            throw;
        }
    }

    /// <summary>The slicing the model was trained with (its Detail profile).</summary>
    public SlicingOptions ReferenceSlicing => _prompts.ReferenceSlicing;

    /// <summary>Plans and prompts exactly as this pipeline does, without running it.</summary>
    public PromptBuilder Prompts => _prompts;

    /// <summary>The slice plan <paramref name="profile"/> gives a region of <paramref name="size"/> pixels.</summary>
    public SlicePlan PlanFor(PixelSize size, CompressionProfile profile) => _prompts.PlanFor(size, profile);

    public QuestionProblem? CheckQuestion(string question) => _prompts.Check(question);

    public VisualTokens Encode(EncodeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return EncodeBatch([request], cancellationToken)[0];
    }

    /// <summary>
    /// Encodes regions that arrived together (frames of several cameras, or several regions of one frame) with as few
    /// encoder calls as possible: all SmolVLM tiles in one call, MiniCPM-V views grouped by size. Results are in request
    /// order; each carries its own plan, features and timings (encode time is shared and split by view count).
    /// </summary>
    public IReadOnlyList<VisualTokens> EncodeBatch(IReadOnlyList<EncodeRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0)
        {
            return [];
        }

        lock (_encodeLock)
        {
            cancellationToken.ThrowIfCancellationRequested();
            while (_batches.Count < requests.Count)
            {
                _batches.Add(new ViewBatch(_vision.Layout));
            }

            int width = _generator.Hidden;
            var plans = new SlicePlan[requests.Count];
            var preprocess = new double[requests.Count];
            var offsets = new int[requests.Count + 1];
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < requests.Count; i++)
            {
                long start = Stopwatch.GetTimestamp();
                plans[i] = PlanFor(requests[i].Region.Size, requests[i].Profile);
                _executor.Execute(plans[i], requests[i].Region, _batches[i]);
                preprocess[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                offsets[i + 1] = offsets[i] + (plans[i].TotalTokens * width);
            }

            EnsureCapacity(ref _scratch, offsets[^1]);
            var outputs = new Memory<float>[requests.Count];
            for (int i = 0; i < requests.Count; i++)
            {
                outputs[i] = _scratch.AsMemory(offsets[i], offsets[i + 1] - offsets[i]);
            }

            using var run = new RunOptions();
            using CancellationTokenRegistration reg = cancellationToken.Register(static r => ((RunOptions)r!).Terminate = true, run);
            double encodeMs, compressMs;
            try
            {
                (encodeMs, compressMs) = _vision.EncodeMany(_batches.GetRange(0, requests.Count), outputs, run);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            int totalViews = plans.Sum(p => p.Views.Length);
            var results = new VisualTokens[requests.Count];
            for (int i = 0; i < requests.Count; i++)
            {
                EncodeRequest request = requests[i];
                var pruneClock = Stopwatch.StartNew();
                (ImmutableArray<int> kept, float[] features) = Prune(plans[i], width, request.Pruning, outputs[i]);
                double share = (double)plans[i].Views.Length / totalViews;
                var source = new PacketSource(request.Camera, request.RoiInFrame.IsEmpty ? PixelRect.FromSize(request.Region.Size) : request.RoiInFrame, request.FrameTime, request.FrameSequence);
                results[i] = new VisualTokens(plans[i], kept, width, features, Encoder, source)
                {
                    Timings = new StageTimings
                    {
                        PreprocessMs = preprocess[i],
                        EncodeMs = encodeMs * share,
                        CompressMs = (compressMs * share) + pruneClock.Elapsed.TotalMilliseconds,
                        TotalMs = preprocess[i] + ((encodeMs + compressMs) * share) + pruneClock.Elapsed.TotalMilliseconds,
                    },
                };
            }

            return results;
        }
    }

    public VlmAnswer Answer(VisualTokens? image, GenerationRequest request, Action<string>? onToken = null, CancellationToken cancellationToken = default) =>
        Answer(image, request, onToken, onLogits: null, cancellationToken);

    /// <summary>As <see cref="Answer(VisualTokens?, GenerationRequest, Action{string}?, CancellationToken)"/>; <paramref name="onLogits"/> sees every step's logits (tests).</summary>
    public VlmAnswer Answer(VisualTokens? image, GenerationRequest request, Action<string>? onToken, Action<ReadOnlySpan<float>>? onLogits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (image is not null && !image.Encoder.Matches(Encoder))
        {
            throw new TokenPacketException(TokenPacketError.EncoderMismatch, $"These tokens were made by encoder '{image.Encoder.ModelId}'; this model is '{ModelId}' with other vision weights.");
        }

        if (image is not null && image.Width != _generator.Hidden)
        {
            throw new TokenPacketException(TokenPacketError.PlanMismatch, $"The tokens are {image.Width} wide; the language model takes {_generator.Hidden}.");
        }

        lock (_answerLock)
        {
            SamplingOptions sampling = SamplingFor(request);
            AnswerConstraint? constraint = request.AnswerType is { } type ? ConstraintFor(type, sampling.StopTokenIds) : null;
            if (constraint is not null)
            {
                // enough tokens for the longest valid answer, so a typed answer always completes
                sampling = sampling with { MaxNewTokens = constraint.MaxTokens };
            }

            TokenSampler sampler = _sampler ??= new TokenSampler(_generator.VocabularySize, sampling);
            sampler.Reset(sampling);   // validates the request's sampling before any work is done for it
            var clock = Stopwatch.StartNew();
            AssembledPrompt prompt = BuildPrompt(image, request.Question);
            int length = prompt.Length;
            float[] embeds = PromptEmbeddings(prompt, image);
            var text = new StreamingText(_tokenizer, onToken);
            GenerationResult result = _generator.Generate(embeds.AsMemory(0, length * _generator.Hidden), length, sampler, sampling, onToken is null ? null : text.Add, onLogits, constraint, cancellationToken);
            string answer = _tokenizer.Decode(result.Tokens);
            JsonElement? value = constraint is { IsComplete: true } ? constraint.Type.ToValue(answer) : null;
            text.Flush(answer);
            double total = clock.Elapsed.TotalMilliseconds;
            double assembly = total - result.PrefillMs - result.DecodeMs;
            int decoded = Math.Max(0, result.Tokens.Count - 1);
            StageTimings encodeTimings = image?.Timings ?? new StageTimings();
            var timings = new StageTimings
            {
                PreprocessMs = encodeTimings.PreprocessMs,
                EncodeMs = encodeTimings.EncodeMs,
                CompressMs = encodeTimings.CompressMs,
                PrefillMs = assembly + result.PrefillMs,
                DecodeMs = result.DecodeMs,
                TotalMs = encodeTimings.TotalMs + total,
                DecodeTokensPerSecond = result.DecodeMs > 0 && decoded > 0 ? decoded / (result.DecodeMs / 1000.0) : 0,
            };
            var counts = new TokenCounts(image?.Total ?? 0, image?.Kept ?? 0, length, result.Tokens.Count);
            return new VlmAnswer(answer, counts, timings, Provider, ModelId)
            {
                TokenIds = result.Tokens,
                Value = value,
                StopReason = result.Reason,
            };
        }
    }

    /// <summary>Encodes <paramref name="region"/> and answers <paramref name="question"/> about it.</summary>
    public VlmAnswer Ask(ImageView region, string question, CompressionProfile profile = CompressionProfile.Detail, Action<string>? onToken = null, CancellationToken cancellationToken = default)
    {
        VisualTokens tokens = Encode(new EncodeRequest(region) { Profile = profile, Pruning = _options.Pruning }, cancellationToken);
        return Answer(tokens, new GenerationRequest(question), onToken, cancellationToken);
    }

    /// <summary>The prompt's token ids and where each view's features go.</summary>
    public AssembledPrompt BuildPrompt(VisualTokens? image, string question) =>
        image is null ? _prompts.Build(null, question) : _prompts.Build(image.Plan, question, image.KeptPerView);

    /// <summary>
    /// The decoder's input: <c>embed_tokens</c> of the prompt ids with each placeholder run overwritten by its view's
    /// features, in schema order. Returned buffer is reused by the next call (length × hidden valid).
    /// </summary>
    public float[] PromptEmbeddings(AssembledPrompt prompt, VisualTokens? image)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        int h = _generator.Hidden;
        EnsureCapacity(ref _ids, prompt.Length);
        EnsureCapacity(ref _embeds, prompt.Length * h);
        for (int i = 0; i < prompt.Length; i++)
        {
            _ids[i] = prompt.Ids[i];
        }

        _generator.Embed(_ids.AsMemory(0, prompt.Length), _embeds);
        if (image is not null)
        {
            int[] starts = new int[image.KeptPerView.Length];
            for (int v = 1; v < starts.Length; v++)
            {
                starts[v] = starts[v - 1] + image.KeptPerView[v - 1];
            }

            foreach (VisualSpan span in prompt.Spans)
            {
                if (span.Count != image.KeptPerView[span.View])
                {
                    throw new InvalidOperationException($"The prompt has {span.Count} placeholders for view {span.View}, which has {image.KeptPerView[span.View]} tokens.");
                }

                image.Features.AsSpan(starts[span.View] * h, span.Count * h).CopyTo(_embeds.AsSpan(span.Start * h, span.Count * h));
            }
        }

        return _embeds;
    }

    public void Dispose()
    {
        foreach (ViewBatch batch in _batches)
        {
            batch.Dispose();
        }

        _executor.Dispose();
        _generator.Dispose();
        _sessions.Dispose();
    }

    /// <summary>
    /// The constraint of <paramref name="type"/>, built on first use and kept (its masks with it) for the next answer of
    /// an equal type; at most <see cref="MaxAnswerTypes"/> types are kept. Called under the answer lock.
    /// </summary>
    private AnswerConstraint ConstraintFor(AnswerType type, ImmutableArray<int> stops)
    {
        if (_constraints.TryGetValue(type.Key, out AnswerConstraint? constraint) && constraint.StopTokenIds.SequenceEqual(stops))
        {
            constraint.Reset();
            return constraint;
        }

        if (_constraints.Count >= MaxAnswerTypes)
        {
            _constraints.Clear();
        }

        _vocabulary ??= BuildVocabulary();
        constraint = new AnswerConstraint(type, _vocabulary, stops);
        _constraints[type.Key] = constraint;
        return constraint;
    }

    /// <summary>Every token's text as the tokenizer decodes it alone; control tokens and unused rows are null.</summary>
    private TokenVocabulary BuildVocabulary()
    {
        var added = new HashSet<int>(_tokenizer.AddedTokenIds);
        var texts = new string?[_generator.VocabularySize];
        foreach (int id in _tokenizer.KnownIds)
        {
            if ((uint)id < (uint)texts.Length && !added.Contains(id))
            {
                texts[id] = _tokenizer.Decode([id]);
            }
        }

        return new TokenVocabulary(texts, texts.Length);
    }

    private SamplingOptions SamplingFor(GenerationRequest request)
    {
        ModelManifest m = Package.Manifest;
        if (_stops.IsDefault)
        {
            // Per model, not per request (sets over the whole vocabulary): the stop tokens, and the tokens never
            // generated — image-structure, chat and reserved (added) tokens, which would corrupt the answer, and logit
            // rows the tokenizer has no text for.
            ImmutableArray<int> stopIds = [.. m.Generation.EosTokenIds.Union(m.Tokens.EosTokenIds)];
            _defaultBans = [.. _reserved.Union(_tokenizer.AddedTokenIds).Where(id => !stopIds.Contains(id)).Union(_undecodable)];
            _defaultSampling = new SamplingOptions
            {
                Temperature = _options.Temperature,
                TopK = _options.TopK,
                TopP = _options.TopP,
                Seed = _options.Seed,
            };
            _stops = stopIds;
        }

        ImmutableArray<int> stops = _stops;
        SamplingOptions baseline = request.Sampling ?? _defaultSampling!;
        int maxNew = request.MaxNewTokens ?? (request.Sampling is null && _options.MaxNewTokens > 0 ? _options.MaxNewTokens : baseline.MaxNewTokens);
        if (request.Sampling is null && request.MaxNewTokens is null && _options.MaxNewTokens == 0)
        {
            maxNew = m.Generation.MaxNewTokens;
        }

        ImmutableArray<int> banned = baseline.BannedTokenIds.IsDefaultOrEmpty ? _defaultBans : [.. _defaultBans.Union(baseline.BannedTokenIds)];
        SamplingOptions sampling = baseline with
        {
            MaxNewTokens = maxNew,
            StopTokenIds = baseline.StopTokenIds.IsDefaultOrEmpty ? stops : baseline.StopTokenIds,
            BannedTokenIds = banned,
        };
        return sampling;   // validated by TokenSampler.Reset, once per request
    }

    private static (ImmutableArray<int> Kept, float[] Features) Prune(SlicePlan plan, int width, TokenPruningOptions pruning, Memory<float> encoded)
    {
        Span<float> scratch = encoded.Span;
        int views = plan.Views.Length;
        int perView = plan.Views[0].Tokens;
        if (!pruning.Enabled)
        {
            return ([.. plan.Views.Select(v => v.Tokens)], scratch[..(plan.TotalTokens * width)].ToArray());
        }

        bool[] keep = ArrayPool<bool>.Shared.Rent(perView);
        double[] scores = ArrayPool<double>.Shared.Rent(perView);
        try
        {
            var kept = ImmutableArray.CreateBuilder<int>(views);
            int write = 0;
            for (int v = 0; v < views; v++)
            {
                Span<float> view = scratch.Slice(v * perView * width, perView * width);
                int k = TokenPruner.Select(view, perView, width, pruning, keep, scores);
                TokenPruner.Compact(view, perView, width, keep);
                view[..(k * width)].CopyTo(scratch.Slice(write * width, k * width));
                write += k;
                kept.Add(k);
            }

            return (kept.MoveToImmutable(), scratch[..(write * width)].ToArray());
        }
        finally
        {
            ArrayPool<bool>.Shared.Return(keep);
            ArrayPool<double>.Shared.Return(scores);
        }
    }

    private static EncoderIdentity IdentityOf(ModelPackage package)
    {
        // The reference-precision vision weights identify the encoder, so every variant of one model (fp32, qdq-int8, …)
        // makes tokens every other variant of it accepts.
        ModelManifest m = package.Manifest;
        ManifestVariant reference = m.Variants.TryGetValue(ModelVariants.Fp32, out ManifestVariant? fp32) ? fp32 : m.Variants[m.DefaultVariant];
        var text = new StringBuilder();
        foreach (string session in new[] { SessionNames.VisionEncoder, SessionNames.Resampler })
        {
            if (reference.Sessions.TryGetValue(session, out ManifestSession? s))
            {
                text.Append(session).Append(':').Append(s.Sha256).Append('\n');
            }
        }

        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return new EncoderIdentity(m.Name, [.. hash]);
    }

    private static void EnsureCapacity<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[Math.Max(length, buffer.Length * 2)];
        }
    }

    /// <summary>Turns generated ids into text pieces as they arrive (a byte-level BPE token may end mid-character).</summary>
    private sealed class StreamingText(TokenizerAdapter tokenizer, Action<string>? sink)
    {
        private readonly List<int> _ids = [];
        private int _emitted;

        public void Add(int id)
        {
            _ids.Add(id);
            string text = tokenizer.Decode(_ids);
            if (text.Length > _emitted && text[^1] != '\uFFFD')
            {
                sink?.Invoke(text[_emitted..]);
                _emitted = text.Length;
            }
        }

        public void Flush(string final)
        {
            if (sink is not null && final.Length > _emitted)
            {
                sink(final[_emitted..]);
                _emitted = final.Length;
            }
        }
    }
}
