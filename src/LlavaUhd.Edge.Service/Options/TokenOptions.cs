using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Messaging;

namespace LlavaUhd.Edge.Service.Options;

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
