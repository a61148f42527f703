using System.Diagnostics;
using System.Threading.Channels;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Errors;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>
/// Decoder role: takes token packets from the encoder device's <c>…/+/tokens</c>, verifies each against this model's
/// vision encoder (<see cref="VisualTokens.FromPacket"/>), keeps the latest tokens per camera, and answers MQTT questions
/// on this device's <c>…/&lt;camera&gt;/ask</c> from them (one answer at a time on the model). A packet that cannot be
/// read or comes from another encoder is refused: an error log and an error message on <c>…/errors</c>, nothing else.
/// The receive callback only queues a packet (<see cref="OnPacket"/>); decoding it — CRC, Brotli, dequantisation,
/// re-planning of packets up to <c>Service:Tokens:MaxPacketBytes</c> — runs on this store's own worker, behind a
/// bounded queue that keeps the newest packets (only the latest tokens of a camera are ever answered from).
/// </summary>
internal sealed class TokenStore : IQuestionHandler, ISettingsHandler, IDisposable
{
    private readonly IVisionLanguageModel _model;
    private readonly IEdgePublisher _errors;
    private readonly AnswerCounter _counter;
    private readonly IReadOnlySet<string> _cameras;
    private readonly int _maxNewTokens;
    private readonly int _maxPacketBytes;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, VisualTokens> _latest = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _modelGate = new(1, 1);
    private readonly Channel<(string Topic, byte[] Payload)> _packets;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private long _received;
    private long _refused;
    private long _dropped;

    /// <summary>Packets waiting to be decoded at most; beyond it the oldest waiting one is dropped.</summary>
    public const int PacketQueueCapacity = 8;

    public TokenStore(IVisionLanguageModel model, AnswerCounter counter, IEnumerable<string> cameras, int maxNewTokens, int maxPacketBytes, IEdgePublisher errors, ILogger<TokenStore> logger)
    {
        _model = model;
        _errors = errors;
        _counter = counter;
        _cameras = cameras.ToHashSet(StringComparer.Ordinal);
        _maxNewTokens = maxNewTokens;
        _maxPacketBytes = maxPacketBytes;
        _logger = logger;
        _packets = Channel.CreateBounded<(string, byte[])>(
            new BoundedChannelOptions(PacketQueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        _worker = Task.Run(() => DecodeLoopAsync(_stop.Token));
    }

    /// <summary>Packets dropped unread because newer ones filled the queue.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Packets accepted.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Packets refused (unreadable, another encoder, unknown camera).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public VisualTokens? Latest(string camera)
    {
        lock (_lock)
        {
            return _latest.GetValueOrDefault(camera);
        }
    }

    /// <summary>
    /// A message on a tokens topic (<c>&lt;prefix&gt;/&lt;device&gt;/&lt;camera&gt;/tokens</c>), called on MQTTnet's
    /// receive thread: only queued here. Never throws.
    /// </summary>
    public void OnPacket(string topic, byte[] payload) => _packets.Writer.TryWrite((topic, payload));

    private async Task DecodeLoopAsync(CancellationToken ct)
    {
        try
        {
            await foreach ((string topic, byte[] payload) in _packets.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                Decode(topic, payload);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Decodes and verifies one packet and keeps it as its camera's latest; a bad one is refused. Never throws.</summary>
    private void Decode(string topic, byte[] payload)
    {
        string[] levels = topic.Split('/');
        string camera = levels.Length >= 2 ? levels[^2] : "";
        try
        {
            if (!_cameras.Contains(camera))
            {
                Refuse(camera, topic, ErrorCodes.UnknownCamera, $"Tokens for camera '{camera}', which is not in Service:Tokens:Cameras ({string.Join(", ", _cameras)}); ignored.");
                return;
            }

            TokenPacket packet = TokenPacketCodec.Decode(payload, _maxPacketBytes);
            VisualTokens tokens = VisualTokens.FromPacket(packet, _model.Encoder);
            lock (_lock)
            {
                // Keep the newest frame: QoS 1 may redeliver an older packet after a reconnect.
                if (_latest.TryGetValue(camera, out VisualTokens? held) && held.Source.FrameTime > tokens.Source.FrameTime)
                {
                    return;
                }

                _latest[camera] = tokens;
            }

            Interlocked.Increment(ref _received);
            _logger.LogDebug("Tokens {Camera} frame #{Frame}: {Tokens} tokens ({Bytes} bytes, {DType}).", camera, tokens.Source.FrameSequence, tokens.Kept, payload.Length, packet.WireDType.Name());
        }
        catch (TokenPacketException ex) when (ex.Error == TokenPacketError.EncoderMismatch)
        {
            Refuse(camera, topic, ErrorCodes.EncoderMismatch, $"Tokens refused: they were made by another vision encoder than this decoder's ({_model.Encoder.ModelId} {_model.Encoder.HashHex[..12]}…): {ex.Message}");
        }
        catch (TokenPacketException ex)
        {
            Refuse(camera, topic, ErrorCodes.InvalidPacket, $"Tokens refused ({ex.Error}): {ex.Message}");
        }
        catch (Exception ex)
        {
            Refuse(camera, topic, ErrorCodes.InvalidPacket, $"Tokens refused: {ex.GetType().Name}: {ex.Message}");
        }
    }

    public async ValueTask<QuestionAnswer> AnswerAsync(Question question, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        VisualTokens tokens = Latest(question.Camera)
            ?? throw new RequestRejectedException(ErrorCodes.Rejected, $"No tokens of camera '{question.Camera}' have arrived yet (the encoder publishes them on its …/{question.Camera}/tokens).");
        if (question.Roi is not null)
        {
            throw new RequestRejectedException(ErrorCodes.InvalidField, "roi: a decoder answers about the region the encoder sent; set the region on the encoder's standing question.");
        }

        if (question.Frame is long seq && seq != tokens.Source.FrameSequence)
        {
            throw new RequestRejectedException(ErrorCodes.InvalidField, $"frame {seq}: a decoder holds only the latest tokens of '{question.Camera}' (frame {tokens.Source.FrameSequence}).");
        }

        long queued = Stopwatch.GetTimestamp();
        await _modelGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        VlmAnswer answer;
        double queueMs = Stopwatch.GetElapsedTime(queued).TotalMilliseconds;
        long start = Stopwatch.GetTimestamp();
        try
        {
            int? max = question.MaxTokens ?? (_maxNewTokens > 0 ? _maxNewTokens : null);
            answer = await Task.Run(() => _model.Answer(tokens, new GenerationRequest(question.Text) { MaxNewTokens = max, AnswerType = question.AnswerType }, null, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _modelGate.Release();
        }

        double modelMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (!_counter.TryTake())
        {
            throw new RequestRejectedException(ErrorCodes.Rejected, "The service is stopping (--max-answers reached).");
        }

        PacketSource source = tokens.Source;
        var result = new WorkResult(answer, queueMs, modelMs, source.FrameSequence, source.FrameTime);
        _logger.LogInformation(
            "Answer {Camera} [mqtt {Id}] from tokens of frame #{Frame}: {Question} → \"{Answer}\" ({Tokens} tokens, {Stop}; model {ModelMs:0.0} ms)",
            question.Camera, question.Id, source.FrameSequence, question.Text, answer.Text, answer.Tokens.Generated, answer.StopReason.ToName(), modelMs);
        return QuestionService.ToQuestionAnswer(result, source.Roi);
    }

    /// <summary>A decoder has no cameras or standing questions to change.</summary>
    public ValueTask<RequestError?> ApplyAsync(SettingChange change, CancellationToken cancellationToken) =>
        ValueTask.FromResult<RequestError?>(new RequestError(ErrorCodes.Rejected, "This device is a decoder (Service:Role = decoder): settings belong to the encoder device."));

    private void Refuse(string camera, string topic, string code, string message)
    {
        Interlocked.Increment(ref _refused);
        _logger.LogError("{Topic}: {Message}", topic, message);
        try
        {
            // besides the log, on this device's …/errors
            _errors.PublishError(MqttTopics.IsValidSegment(camera) ? camera : null, topic, code, message);
        }
        catch (Exception ex)
        {
            _logger.LogWarning("Error message for {Topic} not sent: {Message}", topic, ex.Message);
        }
    }

    public void Dispose()
    {
        _packets.Writer.TryComplete();
        _stop.Cancel();
        try
        {
            _worker.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
        _modelGate.Dispose();
    }
}
