using System.Globalization;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Service.Options;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>
/// Encoder role: turns a region's visual tokens into a <see cref="TokenPacketCodec"/> packet (the camera's dtype and
/// Brotli setting, capped at <c>Service:Tokens:MaxPacketBytes</c>) and publishes it on <c>…/&lt;camera&gt;/tokens</c>
/// at QoS 1 with the MQTT 5 content type and user properties. A packet over the cap is not sent: an error log and an
/// error message on <c>…/errors</c>, never an exception out of the service.
/// </summary>
/// <remarks>
/// Directly, not through the answer outbox: packets are tens of kB to MB (the outbox is a small file-backed queue of
/// JSON answers, and persisting every packet would wear the flash), and a packet is only useful while it is the latest
/// of its camera; one made during an outage is dropped (logged) and the next trigger brings a fresh one.
/// </remarks>
internal sealed class TokenPublisher
{
    private readonly IEdgePublisher _mqtt;
    private readonly TokenOptions _options;
    private readonly ILogger _logger;
    private long _published;
    private long _refused;
    private long _bytes;

    public TokenPublisher(IEdgePublisher mqtt, TokenOptions options, ILogger<TokenPublisher> logger)
    {
        _mqtt = mqtt;
        _options = options;
        _logger = logger;
    }

    public long Published => Interlocked.Read(ref _published);

    /// <summary>Packets not sent: over the size cap, or not connected.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Encodes and publishes; false (logged, error message sent) when the packet exceeds the cap or could not be sent.</summary>
    public async Task<bool> PublishAsync(string camera, string origin, EncodeResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        (TokenDType dtype, bool brotli) = _options.For(camera);
        VisualTokens tokens = result.Tokens;
        byte[] packet;
        try
        {
            packet = TokenPacketCodec.Encode(tokens.ToPacket(), dtype, brotli, _options.MaxPacketBytes);
        }
        catch (TokenPacketException ex) when (ex.Error == TokenPacketError.TooLarge)
        {
            Interlocked.Increment(ref _refused);
            string message = string.Create(CultureInfo.InvariantCulture,
                $"Tokens of {camera} [{origin}] frame #{tokens.Source.FrameSequence} not published: {tokens.Kept} tokens × {tokens.Width} as {dtype.Name()}{(brotli ? "+brotli" : "")} exceed Service:Tokens:MaxPacketBytes = {_options.MaxPacketBytes} ({ex.Message}). Use a smaller region or profile, int8, Brotli, or raise the cap.");
            _logger.LogError("{Message}", message);
            _mqtt.PublishError(camera, _mqtt.Topics.Tokens(camera), ErrorCodes.PacketTooLarge, message);
            return false;
        }

        KeyValuePair<string, string>[] properties =
        [
            new("model", tokens.Encoder.ModelId),
            new("encoder_hash", tokens.Encoder.HashHex),
            new("dtype", dtype.Name()),
            new("brotli", brotli ? "true" : "false"),
            new("tokens", tokens.Kept.ToString(CultureInfo.InvariantCulture)),
            new("views", tokens.Plan.Views.Length.ToString(CultureInfo.InvariantCulture)),
            new("frame_sequence", tokens.Source.FrameSequence.ToString(CultureInfo.InvariantCulture)),
            new("frame_timestamp", tokens.Source.FrameTime.ToString("O", CultureInfo.InvariantCulture)),
            new("origin", origin),
        ];
        if (!await _mqtt.PublishTokensAsync(camera, packet, TokenPacketCodec.ContentType, properties, cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _refused);
            _logger.LogWarning("Tokens of {Camera} [{Origin}] frame #{Frame} ({Bytes} bytes) not sent (not connected or refused); the next trigger sends fresh ones.",
                camera, origin, tokens.Source.FrameSequence, packet.Length);
            return false;
        }

        Interlocked.Increment(ref _published);
        Interlocked.Add(ref _bytes, packet.Length);
        _logger.LogInformation("Tokens {Camera} [{Origin}] frame #{Frame}: {Tokens} tokens, {DType}{Brotli}, {Bytes} bytes (encode {Ms:0.0} ms, queue {QueueMs:0.0} ms)",
            camera, origin, tokens.Source.FrameSequence, tokens.Kept, dtype.Name(), brotli ? "+brotli" : "", packet.Length, result.ModelMs, result.QueueMs);
        return true;
    }
}
