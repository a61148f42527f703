using Microsoft.Extensions.Options;

namespace LlavaUhd.Edge.Messaging.Options;

/// <summary>Checks every <see cref="MqttOptions"/> key and reports all problems at once.</summary>
public sealed class MqttOptionsValidator : IValidateOptions<MqttOptions>
{
    public ValidateOptionsResult Validate(string? name, MqttOptions options)
    {
        IReadOnlyList<string> failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Every problem, each naming its configuration key; empty when the options are valid.</summary>
    public static IReadOnlyList<string> Check(MqttOptions o)
    {
        var f = new List<string>();
        string s = MqttOptions.SectionName;
        if (!o.EmbeddedBroker && (string.IsNullOrWhiteSpace(o.Host) || Uri.CheckHostName(o.Host) == UriHostNameType.Unknown))
        {
            f.Add($"{s}:Host '{o.Host}' is not a host name or IP address.");
        }

        if (o.Port is < 1 or > 65535)
        {
            f.Add($"{s}:Port {o.Port} is outside 1..65535.");
        }

        if (!MqttTopics.IsValidPrefix(o.TopicPrefix))
        {
            f.Add($"{s}:TopicPrefix '{o.TopicPrefix}' must be one or more '/'-separated levels without '+', '#', '$' at the start, empty levels or control characters.");
        }

        if (!MqttTopics.IsValidSegment(o.DeviceId) || o.DeviceId == MqttTopics.SharedLevel)
        {
            f.Add($"{s}:DeviceId '{o.DeviceId}' must be 1..64 characters of letters, digits, '-', '_', '.' and not '{MqttTopics.SharedLevel}'.");
        }

        if (o.ClientId.Length > 0 && (o.ClientId.Length > 128 || o.ClientId.Any(char.IsControl)))
        {
            f.Add($"{s}:ClientId must be at most 128 characters without control characters.");
        }

        if (o.ProtocolVersion is not (4 or 5))
        {
            f.Add($"{s}:ProtocolVersion {o.ProtocolVersion} must be 5 (MQTT 5) or 4 (MQTT 3.1.1).");
        }

        if (o.Password is { Length: > 0 } && string.IsNullOrEmpty(o.Username))
        {
            f.Add($"{s}:Password is set but {s}:Username is empty.");
        }

        if (o.KeepAliveSeconds is < 0 or > 65535)
        {
            f.Add($"{s}:KeepAliveSeconds {o.KeepAliveSeconds} is outside 0..65535.");
        }

        if (o.TimeoutSeconds is < 1 or > 600)
        {
            f.Add($"{s}:TimeoutSeconds {o.TimeoutSeconds} is outside 1..600.");
        }

        if (o.ReconnectMinDelayMs < 10)
        {
            f.Add($"{s}:ReconnectMinDelayMs {o.ReconnectMinDelayMs} must be at least 10.");
        }

        if (o.ReconnectMaxDelayMs < o.ReconnectMinDelayMs)
        {
            f.Add($"{s}:ReconnectMaxDelayMs {o.ReconnectMaxDelayMs} must be at least {s}:ReconnectMinDelayMs ({o.ReconnectMinDelayMs}).");
        }

        if (o.SharedSubscriptionGroup is { Length: > 0 } g && !MqttTopics.IsValidSegment(g))
        {
            f.Add($"{s}:SharedSubscriptionGroup '{g}' must be 1..64 characters of letters, digits, '-', '_', '.'.");
        }

        if (o.MaxPayloadBytes is < 256 or > 16 * 1024 * 1024)
        {
            f.Add($"{s}:MaxPayloadBytes {o.MaxPayloadBytes} is outside 256..16777216.");
        }

        if (o.QuestionQueueCapacity is < 1 or > 100_000)
        {
            f.Add($"{s}:QuestionQueueCapacity {o.QuestionQueueCapacity} is outside 1..100000.");
        }

        if (o.QuestionWorkers is < 1 or > 64)
        {
            f.Add($"{s}:QuestionWorkers {o.QuestionWorkers} is outside 1..64.");
        }

        if (o.StatsIntervalSeconds < 1)
        {
            f.Add($"{s}:StatsIntervalSeconds {o.StatsIntervalSeconds} must be at least 1.");
        }

        CheckTls(o, f);
        CheckOutbox(o.Outbox, f);
        CheckSparkplug(o, f);
        CheckHomeAssistant(o.HomeAssistant, f);
        return f;
    }

    private static void CheckSparkplug(MqttOptions o, List<string> f)
    {
        string s = MqttOptions.SectionName + ":SparkplugB";
        SparkplugBOptions b = o.SparkplugB;
        if (!b.Enabled)
        {
            return;
        }

        if (!SparkplugB.SparkplugTopics.IsValidId(b.GroupId))
        {
            f.Add($"{s}:GroupId '{b.GroupId}' must be set (Sparkplug B is enabled) and be a valid Sparkplug id: no '/', '+', '#', control characters, at most 64 characters.");
        }

        if (!SparkplugB.SparkplugTopics.IsValidId(o.EffectiveEdgeNodeId))
        {
            f.Add($"{s}:EdgeNodeId '{o.EffectiveEdgeNodeId}' must be a valid Sparkplug id: no '/', '+', '#', control characters, at most 64 characters.");
        }

        if (b.ClientId.Length > 0 && (b.ClientId.Length > 128 || b.ClientId.Any(char.IsControl)))
        {
            f.Add($"{s}:ClientId must be at most 128 characters without control characters.");
        }
        else if (o.EffectiveSparkplugClientId == o.EffectiveClientId)
        {
            f.Add($"{s}:ClientId '{b.ClientId}' must differ from the main client id: the broker would drop one connection for the other.");
        }
    }

    private static void CheckHomeAssistant(HomeAssistantOptions h, List<string> f)
    {
        if (h.Enabled && !MqttTopics.IsValidPrefix(h.DiscoveryPrefix))
        {
            f.Add($"{MqttOptions.SectionName}:HomeAssistant:DiscoveryPrefix '{h.DiscoveryPrefix}' must be one or more '/'-separated levels without '+', '#', '$' at the start, empty levels or control characters.");
        }
    }

    private static void CheckTls(MqttOptions o, List<string> f)
    {
        string s = MqttOptions.SectionName + ":Tls";
        MqttTlsOptions t = o.Tls;
        if (!t.Enabled)
        {
            return;
        }

        if (o.EmbeddedBroker)
        {
            f.Add($"{s}:Enabled needs an external broker; the embedded broker listens on loopback without TLS.");
        }

        if (t.CaFile is { Length: > 0 } ca && !File.Exists(ca))
        {
            f.Add($"{s}:CaFile '{ca}' does not exist.");
        }

        bool hasCert = t.ClientCertFile is { Length: > 0 };
        bool hasKey = t.ClientKeyFile is { Length: > 0 };
        if (hasCert != hasKey)
        {
            f.Add($"{s}:ClientCertFile and {s}:ClientKeyFile must be set together.");
        }

        if (hasCert && !File.Exists(t.ClientCertFile))
        {
            f.Add($"{s}:ClientCertFile '{t.ClientCertFile}' does not exist.");
        }

        if (hasKey && !File.Exists(t.ClientKeyFile))
        {
            f.Add($"{s}:ClientKeyFile '{t.ClientKeyFile}' does not exist.");
        }
    }

    private static void CheckOutbox(OutboxOptions b, List<string> f)
    {
        string s = MqttOptions.SectionName + ":Outbox";
        if (string.IsNullOrWhiteSpace(b.Directory))
        {
            f.Add($"{s}:Directory must be set.");
        }

        if (b.SegmentBytes is < 4096 or > 256 * 1024 * 1024)
        {
            f.Add($"{s}:SegmentBytes {b.SegmentBytes} is outside 4096..268435456.");
        }

        if (b.MaxBytes < 2L * b.SegmentBytes)
        {
            f.Add($"{s}:MaxBytes {b.MaxBytes} must be at least two segments ({2L * b.SegmentBytes}).");
        }

        if (!Enum.IsDefined(b.Fsync))
        {
            f.Add($"{s}:Fsync '{b.Fsync}' must be Always, Interval or Never.");
        }

        if (b.Fsync == OutboxFsync.Interval && b.FsyncIntervalMs is < 1 or > 60_000)
        {
            f.Add($"{s}:FsyncIntervalMs {b.FsyncIntervalMs} is outside 1..60000.");
        }

        if (!Enum.IsDefined(b.WhenFull))
        {
            f.Add($"{s}:WhenFull '{b.WhenFull}' must be Reject or DropOldest.");
        }
    }
}
