namespace LlavaUhd.Edge.Messaging.Options;

/// <summary>
/// MQTT settings, bound from the <c>Mqtt</c> configuration section. Validate with <see cref="MqttOptionsValidator"/>.
/// </summary>
public sealed class MqttOptions
{
    public const string SectionName = "Mqtt";

    /// <summary>Broker host name or address. Ignored when <see cref="EmbeddedBroker"/> is true (the client uses loopback).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Broker TCP port (1883 plain, 8883 TLS by convention).</summary>
    public int Port { get; set; } = 1883;

    /// <summary>Start the in-process MQTTnet broker on loopback and connect to it (single device or demo).</summary>
    public bool EmbeddedBroker { get; set; } = true;

    /// <summary>First topic level; every topic of this device lives under <c>&lt;TopicPrefix&gt;/&lt;DeviceId&gt;/</c>.</summary>
    public string TopicPrefix { get; set; } = "llavauhd";

    /// <summary>This device's id, the second topic level. Letters, digits, '-', '_', '.'.</summary>
    public string DeviceId { get; set; } = "edge-1";

    /// <summary>MQTT client id; empty means <c>&lt;TopicPrefix&gt;-&lt;DeviceId&gt;</c>. Must be unique per broker.</summary>
    public string ClientId { get; set; } = "";

    public string? Username { get; set; } = "edge";

    public string? Password { get; set; } = "edge";

    /// <summary>Protocol: 5 (MQTT 5, default) or 4 (MQTT 3.1.1).</summary>
    public int ProtocolVersion { get; set; } = 5;

    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>
    /// false (default): a persistent session — the broker keeps the subscriptions and queues the questions (QoS 1)
    /// sent while the service is away, and they are answered when it is back (docs/mqtt.md, "Delivery guarantees").
    /// true: every connection starts clean and what was sent meanwhile is lost.
    /// </summary>
    public bool CleanSession { get; set; }

    /// <summary>How long the broker keeps the session after a disconnect (MQTT 5; a 3.1.1 broker keeps it by its own policy).</summary>
    public int SessionExpirySeconds { get; set; } = 86_400;

    /// <summary>Timeout of CONNECT and of each QoS 1 publish waiting for its PUBACK.</summary>
    public int TimeoutSeconds { get; set; } = 5;

    /// <summary>First delay between reconnect attempts; doubles per failure up to <see cref="ReconnectMaxDelayMs"/>.</summary>
    public int ReconnectMinDelayMs { get; set; } = 250;

    public int ReconnectMaxDelayMs { get; set; } = 30_000;

    /// <summary>When set, the device also takes questions from <c>$share/&lt;group&gt;/&lt;TopicPrefix&gt;/shared/+/ask</c>.</summary>
    public string? SharedSubscriptionGroup { get; set; }

    /// <summary>Largest accepted payload on <c>ask</c> and <c>set</c> topics; bigger ones get an error reply.</summary>
    public int MaxPayloadBytes { get; set; } = 16 * 1024;

    /// <summary>Questions waiting for the pipeline; when full a question gets an immediate <c>busy</c> error reply.</summary>
    public int QuestionQueueCapacity { get; set; } = 8;

    /// <summary>
    /// Concurrent calls into the question handler. One serialises questions into the model's queue (a burst, such as
    /// the questions a persistent session delivers after a restart, waits instead of overflowing it with <c>busy</c>);
    /// more lets a question waiting for a camera's first frame (up to <c>Service:FrameWaitMs</c>) not hold up
    /// questions about the other cameras, at the price of <c>busy</c> replies when a burst exceeds
    /// <c>Service:QueueDepth</c>.
    /// </summary>
    public int QuestionWorkers { get; set; } = 1;

    /// <summary>Seconds between <c>stats</c> messages (used by the service's stats worker).</summary>
    public int StatsIntervalSeconds { get; set; } = 30;

    public MqttTlsOptions Tls { get; set; } = new();

    public OutboxOptions Outbox { get; set; } = new();

    public EmbeddedBrokerOptions Broker { get; set; } = new();

    /// <summary>The Sparkplug B edge node (off by default).</summary>
    public SparkplugBOptions SparkplugB { get; set; } = new();

    /// <summary>Home Assistant MQTT discovery (off by default).</summary>
    public HomeAssistantOptions HomeAssistant { get; set; } = new();

    /// <summary>The client id actually used.</summary>
    public string EffectiveClientId => string.IsNullOrEmpty(ClientId) ? $"{TopicPrefix}-{DeviceId}" : ClientId;

    /// <summary>The Sparkplug edge node id actually used: <c>SparkplugB:EdgeNodeId</c>, else <see cref="DeviceId"/>.</summary>
    public string EffectiveEdgeNodeId => string.IsNullOrEmpty(SparkplugB.EdgeNodeId) ? DeviceId : SparkplugB.EdgeNodeId;

    /// <summary>The client id of the Sparkplug connection: <c>SparkplugB:ClientId</c>, else <see cref="EffectiveClientId"/> + <c>-spb</c>.</summary>
    public string EffectiveSparkplugClientId => string.IsNullOrEmpty(SparkplugB.ClientId) ? EffectiveClientId + "-spb" : SparkplugB.ClientId;
}

/// <summary>TLS to the broker: trust chain, client certificate, and the escape hatch for test brokers.</summary>
public sealed class MqttTlsOptions
{
    public bool Enabled { get; set; }

    /// <summary>PEM file of the CA that signed the broker certificate (private CA); empty uses the system store.</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM client certificate for mutual TLS; needs <see cref="ClientKeyFile"/>.</summary>
    public string? ClientCertFile { get; set; }

    public string? ClientKeyFile { get; set; }

    /// <summary>Name checked against the broker certificate; empty means <see cref="MqttOptions.Host"/>.</summary>
    public string? TargetHost { get; set; }

    /// <summary>Accept any broker certificate. For test set-ups only; logged as a warning.</summary>
    public bool AllowUntrusted { get; set; }
}

/// <summary>When the outbox flushes appended answers to the disk.</summary>
public enum OutboxFsync
{
    /// <summary>fsync after every append: an acknowledged append survives power loss.</summary>
    Always,

    /// <summary>fsync at most every <see cref="OutboxOptions.FsyncIntervalMs"/>: survives a process crash, may lose the last interval on power loss.</summary>
    Interval,

    /// <summary>Leave it to the OS page cache: survives a process crash only.</summary>
    Never,
}

/// <summary>What <see cref="Outbox.AnswerOutbox.Append"/> does when the outbox is at <see cref="OutboxOptions.MaxBytes"/>.</summary>
public enum OutboxFullPolicy
{
    /// <summary>Refuse the new answer (<see cref="Errors.OutboxFullException"/>); what is stored stays intact.</summary>
    Reject,

    /// <summary>Delete the oldest unpublished segment to make room (logged with the number of answers lost).</summary>
    DropOldest,
}

public sealed class OutboxOptions
{
    /// <summary>Directory of the segment files; created when missing.</summary>
    public string Directory { get; set; } = "outbox";

    /// <summary>Upper bound of the bytes on disk (all segments).</summary>
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>A segment file is closed and a new one started past this size.</summary>
    public int SegmentBytes { get; set; } = 1024 * 1024;

    public OutboxFsync Fsync { get; set; } = OutboxFsync.Interval;

    public int FsyncIntervalMs { get; set; } = 100;

    public OutboxFullPolicy WhenFull { get; set; } = OutboxFullPolicy.Reject;
}

/// <summary>The in-process broker (MQTTnet.Server) started when <see cref="MqttOptions.EmbeddedBroker"/> is true.</summary>
public sealed class EmbeddedBrokerOptions
{
    /// <summary>File that keeps retained messages across restarts; empty keeps them in memory only.</summary>
    public string? RetainedFile { get; set; }
}
