using System.Diagnostics;
using System.Runtime.InteropServices;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Inference.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>
/// Runs <c>embed_tokens</c> and <c>decoder_model_merged</c>: one prefill over the prompt embeddings (with the visual
/// features already written in), then one token per step with the KV cache kept between steps (<see cref="KvCache"/>:
/// ONNX Runtime writes each step's <c>present.*</c> into the buffers the next step reads as <c>past_key_values.*</c>).
/// Full-length attention mask and 0-based positions (docs/smolvlm.md §6). Cancellation stops within one step: the token
/// sets <see cref="RunOptions.Terminate"/> on the step in flight. Not thread-safe: one generator per worker.
/// </summary>
public sealed class TextGenerator : IDisposable
{
    private readonly InferenceSession _embed;
    private readonly InferenceSession _decoder;
    private readonly int _hidden;
    private readonly int _layers;
    private readonly int _vocab;
    private readonly KvCache _cache;
    private readonly bool _hasLogitsToKeep;
    private readonly bool _hasCacheBranch;
    private readonly TensorElementType _embedsType;
    private readonly TensorElementType _logitsType;
    private readonly string[] _pastNames;
    private readonly string[] _presentNames;
    private readonly float[] _logits;
    private readonly float[] _stepEmbeds;
    private readonly long[] _oneId = new long[1];
    private readonly long[] _logitsToKeep = [1];
    private readonly bool[] _cacheBranch = new bool[1];
    private readonly List<OrtValue> _stepValues = [];
    private readonly long[] _embedsShape = [1, 0, 0];
    private readonly long[] _maskShape = [1, 0];
    private readonly long[] _positionShape = [1, 0];
    private readonly long[] _logitsShape = [1, 1, 0];
    private readonly long[] _scalarShape = [];
    private readonly long[] _branchShape = [1];
    private readonly FusedDecodeState? _fused;
    private readonly int _maxPrefillTokensPerCall;
    private OrtIoBinding? _binding;
    private long[] _ones = [];
    private long[] _positions = [];

    /// <param name="sessions">The package's sessions.</param>
    /// <param name="clock">Collects the time spent inside ONNX Runtime runs.</param>
    /// <param name="maxPrefillTokensPerCall">
    /// Most prompt tokens per decoder call during prefill (0 = the whole prompt in one call): the standard decoder then
    /// runs the prompt in chunks over the KV cache, which bounds its logits and attention buffers (docs/memory.md).
    /// </param>
    public TextGenerator(ModelSessions sessions, OrtClock? clock = null, int maxPrefillTokensPerCall = 0)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentOutOfRangeException.ThrowIfNegative(maxPrefillTokensPerCall);
        Clock = clock ?? new OrtClock();
        _maxPrefillTokensPerCall = maxPrefillTokensPerCall;
        _embed = sessions[SessionNames.EmbedTokens];
        _decoder = sessions[SessionNames.Decoder];
        ManifestDimensions d = sessions.Package.Manifest.Dimensions;
        _hidden = d.TextHidden;
        _vocab = d.VocabSize;
        _pastNames = [.. _decoder.InputNames.Where(n => n.StartsWith("past_key_values.", StringComparison.Ordinal))];
        _layers = _pastNames.Length / 2;
        _pastNames = [.. Enumerable.Range(0, _layers).SelectMany(l => new[] { $"past_key_values.{l}.key", $"past_key_values.{l}.value" })];
        _presentNames = [.. Enumerable.Range(0, _layers).SelectMany(l => new[] { $"present.{l}.key", $"present.{l}.value" })];
        NodeMetadata past = _decoder.InputMetadata[_pastNames[0]];
        int heads = past.Dimensions[1] > 0 ? past.Dimensions[1] : d.NumKeyValueHeads;
        int headDim = past.Dimensions[3] > 0 ? past.Dimensions[3] : d.HeadDim;
        _cache = new KvCache(_layers, heads, headDim, past.ElementDataType);
        _hasLogitsToKeep = _decoder.InputMetadata.ContainsKey("num_logits_to_keep");
        _hasCacheBranch = _decoder.InputMetadata.ContainsKey("use_cache_branch");
        _embedsType = _decoder.InputMetadata["inputs_embeds"].ElementDataType;
        _logitsType = _decoder.OutputMetadata["logits"].ElementDataType;
        if (_embedsType != TensorElementType.Float || _logitsType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            throw new NotSupportedException($"decoder_model_merged takes {_embedsType} inputs_embeds and gives {_logitsType} logits; this runtime feeds float32 embeddings (the public fp16 exports wrap theirs in a Cast) and reads float32/float16 logits.");
        }

        _logits = new float[_vocab];
        _stepEmbeds = new float[_hidden];
        if (_decoder.InputMetadata.ContainsKey("seqlens_k"))
        {
            _fused = new FusedDecodeState(this, heads, headDim, past.ElementDataType);
        }
    }

    /// <summary>True when the decoder is the CPU variant with fused attention over shared KV buffers (docs/cpu-decoder.md).</summary>
    public bool IsFused => _fused is not null;

    /// <summary>Time spent inside ONNX Runtime runs.</summary>
    public OrtClock Clock { get; }

    public int Hidden => _hidden;

    public int VocabularySize => _vocab;

    /// <summary>Embeds <paramref name="ids"/> into <paramref name="destination"/> (ids.Length × hidden floats).</summary>
    public void Embed(Memory<long> ids, Memory<float> destination)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids, [1, ids.Length]);
        using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, destination[..(ids.Length * _hidden)], [1, ids.Length, _hidden]);
        using var run = new RunOptions();
        long t = OrtClock.Start();
        _embed.Run(run, ["input_ids"], [input], ["inputs_embeds"], [output]);
        Clock.Stop(t);
    }

    /// <summary>
    /// Generates from <paramref name="promptEmbeds"/> (<paramref name="promptLength"/> × hidden). Each chosen token is
    /// passed to <paramref name="onToken"/>; <paramref name="onLogits"/> (tests) sees every step's last-position logits.
    /// </summary>
    public GenerationResult Generate(
        ReadOnlyMemory<float> promptEmbeds,
        int promptLength,
        TokenSampler sampler,
        SamplingOptions options,
        Action<int>? onToken = null,
        Action<ReadOnlySpan<float>>? onLogits = null,
        AnswerConstraint? constraint = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentNullException.ThrowIfNull(options);
        int maxNew = options.MaxNewTokens;
        int total = promptLength + maxNew;
        if (_fused is not null)
        {
            _fused.Prepare(total);
        }
        else
        {
            _cache.Reset(total);
            EnsureScratch(total);
        }

        var tokens = new List<int>(maxNew);
        var clock = Stopwatch.StartNew();
        double prefillMs = 0;
        using var run = new RunOptions();
        using CancellationTokenRegistration registration = cancellationToken.Register(static r => ((RunOptions)r!).Terminate = true, run);
        StopReason reason = StopReason.MaxTokens;
        try
        {
            // Prefill: the whole prompt at once.
            if (_fused is not null)
            {
                _fused.Prefill(run, promptEmbeds, promptLength);
            }
            else
            {
                // In chunks over the KV cache when capped: each call holds logits and attention scores for its own
                // tokens only, not the whole prompt's.
                Memory<float> embeds = MemoryMarshal.AsMemory(promptEmbeds);
                int chunk = _maxPrefillTokensPerCall > 0 ? _maxPrefillTokensPerCall : promptLength;
                for (int first = 0; first < promptLength; first += chunk)
                {
                    int count = Math.Min(chunk, promptLength - first);
                    Step(run, embeds.Slice(first * _hidden, count * _hidden), count);
                    if (first + count < promptLength)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }
            }

            prefillMs = clock.Elapsed.TotalMilliseconds;
            for (int i = 0; i < maxNew; i++)
            {
                onLogits?.Invoke(_logits);
                constraint?.Mask(_logits);
                int next = sampler.Next(_logits, CollectionsMarshal.AsSpan(tokens));
                if (options.StopTokenIds.Contains(next))
                {
                    reason = StopReason.StopToken;
                    break;
                }

                if (constraint is not null && !constraint.Advance(next))
                {
                    throw new InvalidOperationException($"Token {next} does not continue the {constraint.Type.Name} answer (a banned token left no allowed one).");
                }

                tokens.Add(next);
                onToken?.Invoke(next);
                if (constraint is { MustStop: true })
                {
                    reason = StopReason.StopToken;
                    break;
                }

                if (i == maxNew - 1)
                {
                    break;
                }

                cancellationToken.ThrowIfCancellationRequested();
                _oneId[0] = next;
                if (_fused is not null)
                {
                    _fused.Step(run);
                }
                else
                {
                    Embed(_oneId, _stepEmbeds);
                    Step(run, _stepEmbeds, 1);
                }
            }
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or OnnxRuntimeException)
        {
            reason = StopReason.Cancelled;
        }

        double decodeMs = clock.Elapsed.TotalMilliseconds - prefillMs;
        return new GenerationResult(tokens, reason, prefillMs, decodeMs, promptLength);
    }

    /// <summary>
    /// Runs the decoder on <paramref name="embeds"/> (<paramref name="seq"/> new positions) over the cache and leaves the
    /// last position's logits in <see cref="_logits"/>.
    /// </summary>
    private void Step(RunOptions run, Memory<float> embeds, int seq)
    {
        int past = _cache.Length;
        List<OrtValue> values = _stepValues;

        // One binding, one value list and fixed shape arrays for the generator's lifetime (ONNX Runtime copies the
        // dimensions when a value is created): a step allocates only the OrtValue wrappers whose shapes change.
        OrtIoBinding binding = _binding ??= _decoder.CreateIoBinding();
        try
        {
            _embedsShape[1] = seq;
            _embedsShape[2] = _hidden;
            _maskShape[1] = past + seq;
            _positionShape[1] = seq;
            binding.BindInput("inputs_embeds", Track(values, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, embeds[..(seq * _hidden)], _embedsShape)));
            binding.BindInput("attention_mask", Track(values, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _ones.AsMemory(0, past + seq), _maskShape)));
            binding.BindInput("position_ids", Track(values, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _positions.AsMemory(past, seq), _positionShape)));
            if (_hasLogitsToKeep)
            {
                binding.BindInput("num_logits_to_keep", Track(values, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _logitsToKeep.AsMemory(), _scalarShape)));
            }

            if (_hasCacheBranch)
            {
                _cacheBranch[0] = past > 0;
                binding.BindInput("use_cache_branch", Track(values, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _cacheBranch.AsMemory(), _branchShape)));
            }

            for (int l = 0; l < _layers; l++)
            {
                for (int kv = 0; kv < 2; kv++)
                {
                    binding.BindInput(_pastNames[(l * 2) + kv], Track(values, _cache.Past(l, kv)));
                    binding.BindOutput(_presentNames[(l * 2) + kv], Track(values, _cache.Present(l, kv, seq)));
                }
            }

            bool oneRow = seq == 1 || _hasLogitsToKeep;
            if (oneRow && _logitsType == TensorElementType.Float)
            {
                _logitsShape[2] = _vocab;
                binding.BindOutput("logits", Track(values, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _logits.AsMemory(), _logitsShape)));
                long t = OrtClock.Start();
                _decoder.RunWithBinding(run, binding);
                Clock.Stop(t);
            }
            else
            {
                binding.BindOutputToDevice("logits", OrtMemoryInfo.DefaultInstance);
                long t = OrtClock.Start();
                _decoder.RunWithBinding(run, binding);
                Clock.Stop(t);
                using IDisposableReadOnlyCollection<OrtValue> outputs = binding.GetOutputValues();
                OrtValue logits = outputs[outputs.Count - 1];
                long rows = logits.GetTensorTypeAndShape().Shape[1];
                long offset = (rows - 1) * _vocab;
                if (_logitsType == TensorElementType.Float)
                {
                    logits.GetTensorDataAsSpan<float>().Slice((int)offset, _vocab).CopyTo(_logits);
                }
                else
                {
                    ReadOnlySpan<Float16> half = logits.GetTensorDataAsSpan<Float16>().Slice((int)offset, _vocab);
                    for (int i = 0; i < _vocab; i++)
                    {
                        _logits[i] = (float)half[i];
                    }
                }
            }

            _cache.Advance(seq);
        }
        finally
        {
            binding.ClearBoundInputs();
            binding.ClearBoundOutputs();
            foreach (OrtValue v in values)
            {
                v.Dispose();
            }

            values.Clear();
        }
    }

    private void EnsureScratch(int total)
    {
        if (_ones.Length >= total)
        {
            return;
        }

        _ones = new long[total];
        Array.Fill(_ones, 1L);
        _positions = new long[total];
        for (int i = 0; i < total; i++)
        {
            _positions[i] = i;
        }
    }

    private static OrtValue Track(List<OrtValue> values, OrtValue value)
    {
        values.Add(value);
        return value;
    }

    public void Dispose()
    {
        _binding?.Dispose();
        _binding = null;
        _fused?.Dispose();
    }

    /// <summary>
    /// The decoder runs of the CPU variant (docs/cpu-decoder.md). Everything a step touches is bound once: one KV buffer
    /// per layer and key/value (capacity for the whole answer, bound as both past and present: the fused attention
    /// appends in place), the two sequence-length scalars (updated in place), the step's token id, its embedding and
    /// the logits. A generated token then runs two bound sessions (embed, decoder) and the sampler: no OrtValue, no
    /// binding and no managed allocation per token.
    /// </summary>
    private sealed class FusedDecodeState : IDisposable
    {
        private readonly TextGenerator _g;
        private readonly int _heads;
        private readonly int _headDim;
        private readonly int _maxContext;
        private readonly int[] _seqlens = new int[1];
        private readonly int[] _total = new int[1];
        private readonly OrtValue _seqlensValue;
        private readonly OrtValue _totalValue;
        private readonly OrtValue _stepEmbedsValue;
        private readonly OrtValue _stepIdValue;
        private readonly OrtValue _logitsValue;
        private readonly OrtIoBinding _decoderBinding;
        private readonly OrtIoBinding _embedBinding;
        private float[][] _kv = [];
        private OrtValue[] _kvValues = [];
        private int _capacity;
        private int _length;

        public FusedDecodeState(TextGenerator g, int heads, int headDim, TensorElementType kvType)
        {
            if (kvType != TensorElementType.Float)
            {
                throw new NotSupportedException($"the CPU decoder variant keeps a float32 KV cache; this one is {kvType}.");
            }

            _g = g;
            _heads = heads;
            _headDim = headDim;
            _maxContext = g._decoder.ModelMetadata.CustomMetadataMap.TryGetValue(ModelContracts.MaxContextMetadataKey, out string? max)
                ? int.Parse(max, System.Globalization.CultureInfo.InvariantCulture)
                : 4096;
            _seqlensValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _seqlens.AsMemory(), [1]);
            _totalValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _total.AsMemory(), []);
            _stepEmbedsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, g._stepEmbeds.AsMemory(), [1, 1, g._hidden]);
            _stepIdValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, g._oneId.AsMemory(), [1, 1]);
            _logitsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, g._logits.AsMemory(), [1, 1, g._vocab]);
            _embedBinding = g._embed.CreateIoBinding();
            _embedBinding.BindInput("input_ids", _stepIdValue);
            _embedBinding.BindOutput("inputs_embeds", _stepEmbedsValue);
            _decoderBinding = g._decoder.CreateIoBinding();
            _decoderBinding.BindInput("seqlens_k", _seqlensValue);
            _decoderBinding.BindInput("total_sequence_length", _totalValue);
            _decoderBinding.BindOutput("logits", _logitsValue);
        }

        /// <summary>Makes room for <paramref name="total"/> tokens (prompt + answer) in the KV buffers.</summary>
        public void Prepare(int total)
        {
            if (total > _maxContext)
            {
                throw new ArgumentException($"the prompt and the new tokens ({total}) exceed the CPU decoder's context of {_maxContext} tokens (rebuild it with a larger --max-context).");
            }

            EnsureCapacity(total);
        }

        /// <summary>The whole prompt in one run; then the decoder reads the step's own embedding buffer for every token.</summary>
        public void Prefill(RunOptions run, ReadOnlyMemory<float> promptEmbeds, int promptLength)
        {
            using (var prompt = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, MemoryMarshal.AsMemory(promptEmbeds)[..(promptLength * _g._hidden)], [1, promptLength, _g._hidden]))
            {
                _decoderBinding.BindInput("inputs_embeds", prompt);
                _seqlens[0] = promptLength - 1;
                _total[0] = promptLength;
                Run(run, _g._decoder, _decoderBinding);
            }

            _decoderBinding.BindInput("inputs_embeds", _stepEmbedsValue);
            _length = promptLength;
        }

        /// <summary>One token (its id in the generator's id buffer): embed it in place, extend the cache by one, logits out.</summary>
        public void Step(RunOptions run)
        {
            Run(run, _g._embed, _embedBinding);
            _seqlens[0] = _length;
            _total[0] = ++_length;
            Run(run, _g._decoder, _decoderBinding);
        }

        private void Run(RunOptions run, InferenceSession session, OrtIoBinding binding)
        {
            long t = OrtClock.Start();
            session.RunWithBinding(run, binding);
            _g.Clock.Stop(t);
        }

        /// <summary>KV buffers for <paramref name="tokens"/> tokens (grown in steps of 256, never shrunk), bound as past and present.</summary>
        private void EnsureCapacity(int tokens)
        {
            if (tokens <= _capacity)
            {
                return;
            }

            int capacity = Math.Min(_maxContext, ((tokens + 255) / 256) * 256);
            foreach (OrtValue v in _kvValues)
            {
                v.Dispose();
            }

            int layers = _g._layers;
            _kv = new float[layers * 2][];
            _kvValues = new OrtValue[layers * 2];
            for (int i = 0; i < layers * 2; i++)
            {
                _kv[i] = GC.AllocateArray<float>(_heads * capacity * _headDim, pinned: true);
                _kvValues[i] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _kv[i].AsMemory(), [1, _heads, capacity, _headDim]);
                _decoderBinding.BindInput(_g._pastNames[i], _kvValues[i]);
                _decoderBinding.BindOutput(_g._presentNames[i], _kvValues[i]);
            }

            _capacity = capacity;
        }

        public void Dispose()
        {
            _decoderBinding.Dispose();
            _embedBinding.Dispose();
            foreach (OrtValue v in _kvValues)
            {
                v.Dispose();
            }

            _seqlensValue.Dispose();
            _totalValue.Dispose();
            _stepEmbedsValue.Dispose();
            _stepIdValue.Dispose();
            _logitsValue.Dispose();
        }
    }
}
