using LlavaUhd.Edge.Messaging.Options;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// The topic tree of one device (see README "Topics"): builds every topic it publishes and the filters it
/// subscribes, and parses incoming topics. Topic segments (device, camera, group) are validated here.
/// </summary>
public sealed class MqttTopics
{
    /// <summary>The level under the prefix that holds pooled questions (<c>&lt;prefix&gt;/shared/&lt;camera&gt;/ask</c>).</summary>
    public const string SharedLevel = "shared";

    public const string OnlinePayload = "online";
    public const string OfflinePayload = "offline";

    private readonly string _prefix;
    private readonly string _device;

    public MqttTopics(string topicPrefix, string deviceId)
    {
        if (!IsValidPrefix(topicPrefix))
        {
            throw new ArgumentException($"Invalid topic prefix '{topicPrefix}'.", nameof(topicPrefix));
        }

        if (!IsValidSegment(deviceId))
        {
            throw new ArgumentException($"Invalid device id '{deviceId}'.", nameof(deviceId));
        }

        _prefix = topicPrefix;
        _device = deviceId;
        Root = $"{topicPrefix}/{deviceId}";
    }

    public MqttTopics(MqttOptions options)
        : this(options.TopicPrefix, options.DeviceId)
    {
    }

    /// <summary><c>&lt;prefix&gt;/&lt;device&gt;</c>.</summary>
    public string Root { get; }

    /// <summary>Retained <c>online</c>; the Last Will sets it to <c>offline</c>.</summary>
    public string Available => Root + "/available";

    /// <summary>Retained JSON <see cref="Contracts.StatusMessage"/>.</summary>
    public string Status => Root + "/status";

    /// <summary>Periodic JSON <see cref="Contracts.StatsMessage"/>, QoS 0.</summary>
    public string Stats => Root + "/stats";

    /// <summary>Error replies for requests that named no response topic.</summary>
    public string Errors => Root + "/errors";

    /// <summary>Subscription filter for questions to any camera of this device (unknown cameras get an error reply).</summary>
    public string AskFilter => Root + "/+/ask";

    /// <summary>Subscription filter for settings of any camera of this device.</summary>
    public string SetFilter => Root + "/+/+/set";

    public string Answer(string camera) => $"{Root}/{CheckCamera(camera)}/answer";

    public string Ask(string camera) => $"{Root}/{CheckCamera(camera)}/ask";

    /// <summary>Compressed visual tokens of a camera (encoder role; binary <c>TokenPacketCodec</c> packets).</summary>
    public string Tokens(string camera) => $"{Root}/{CheckCamera(camera)}/tokens";

    /// <summary>
    /// The latest answered frame of a camera as a JPEG with the zones, the motion box and the slice grid drawn on it,
    /// retained at QoS 0 (<c>Service:PublishSnapshots</c>): what Home Assistant's MQTT camera shows.
    /// </summary>
    public string Snapshot(string camera) => $"{Root}/{CheckCamera(camera)}/snapshot";

    /// <summary>Every camera's tokens of this device (the decoder subscribes to another device's).</summary>
    public string TokensFilter => Root + "/+/tokens";

    public string Set(string camera, string setting) => $"{Root}/{CheckCamera(camera)}/{CheckSegment(setting)}/set";

    public string State(string camera, string setting) => $"{Root}/{CheckCamera(camera)}/{CheckSegment(setting)}/state";

    /// <summary>The topic a fleet publishes pooled questions to: <c>&lt;prefix&gt;/shared/&lt;camera&gt;/ask</c>.</summary>
    public string SharedAsk(string camera) => $"{_prefix}/{SharedLevel}/{CheckCamera(camera)}/ask";

    /// <summary><c>$share/&lt;group&gt;/&lt;prefix&gt;/shared/+/ask</c>: each pooled question goes to one device of the group.</summary>
    public string SharedAskFilter(string group) => $"$share/{CheckSegment(group)}/{_prefix}/{SharedLevel}/+/ask";

    /// <summary>Parses an incoming topic of this device (or the shared pool); anything else is <see cref="TopicKind.Unknown"/>.</summary>
    public bool TryParse(string topic, out TopicAddress address)
    {
        address = default;
        if (topic.StartsWith(Root + "/", StringComparison.Ordinal))
        {
            string[] rest = topic[(Root.Length + 1)..].Split('/');
            if (rest.Length == 2 && rest[1] == "ask" && rest[0].Length > 0)
            {
                address = new TopicAddress(TopicKind.Ask, rest[0], null);
                return true;
            }

            if (rest.Length == 3 && rest[2] == "set" && rest[0].Length > 0 && rest[1].Length > 0)
            {
                address = new TopicAddress(TopicKind.Set, rest[0], rest[1]);
                return true;
            }

            return false;
        }

        string shared = $"{_prefix}/{SharedLevel}/";
        if (topic.StartsWith(shared, StringComparison.Ordinal))
        {
            string[] rest = topic[shared.Length..].Split('/');
            if (rest.Length == 2 && rest[1] == "ask" && rest[0].Length > 0)
            {
                address = new TopicAddress(TopicKind.SharedAsk, rest[0], null);
                return true;
            }
        }

        return false;
    }

    /// <summary>One topic level usable as a device, camera, setting or group id: 1..64 of [A-Za-z0-9_.-].</summary>
    public static bool IsValidSegment(string? segment)
    {
        if (string.IsNullOrEmpty(segment) || segment.Length > 64)
        {
            return false;
        }

        foreach (char c in segment)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A prefix of one or more levels, none empty, no wildcards, no leading '$', no control characters.</summary>
    public static bool IsValidPrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix) || prefix.Length > 128 || prefix[0] == '$')
        {
            return false;
        }

        foreach (string level in prefix.Split('/'))
        {
            if (level.Length == 0 || level.AsSpan().IndexOfAny("+#\0") >= 0 || level.Any(char.IsControl))
            {
                return false;
            }
        }

        return true;
    }

    private static string CheckCamera(string camera) => IsValidSegment(camera)
        ? camera
        : throw new ArgumentException($"Invalid camera id '{camera}': 1..64 of letters, digits, '-', '_', '.'.", nameof(camera));

    private static string CheckSegment(string segment) => IsValidSegment(segment)
        ? segment
        : throw new ArgumentException($"Invalid topic level '{segment}'.", nameof(segment));
}
