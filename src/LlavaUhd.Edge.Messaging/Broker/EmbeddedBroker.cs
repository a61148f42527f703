using System.Buffers;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using LlavaUhd.Edge.Messaging.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace LlavaUhd.Edge.Messaging.Broker;

/// <summary>
/// An in-process MQTT broker (MQTTnet.Server) bound to loopback only (IPv4 and IPv6), with username/password
/// authentication, for a single device or a demo. Retained messages (availability, status, setting states) can be
/// kept in a file across restarts. Production uses a real broker (mosquitto) with <see cref="MqttOptions.EmbeddedBroker"/> false.
/// </summary>
public sealed class EmbeddedBroker : IAsyncDisposable
{
    private readonly MqttServer _server;
    private readonly string? _username;
    private readonly string? _password;
    private readonly string? _retainedFile;
    private readonly ILogger _logger;
    private readonly Lock _fileLock = new();

    public EmbeddedBroker(int port, string? username, string? password, string? retainedFile = null, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Port = port;
        _username = username;
        _password = password;
        _retainedFile = string.IsNullOrEmpty(retainedFile) ? null : retainedFile;
        _logger = logger ?? NullLogger.Instance;
        MqttServerOptions options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.IPv6Loopback)
            .WithDefaultEndpointPort(port)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(options);
        _server.ValidatingConnectionAsync += OnValidatingConnection;
        if (_retainedFile is not null)
        {
            _server.LoadingRetainedMessageAsync += OnLoadingRetained;
            _server.RetainedMessageChangedAsync += OnRetainedChanged;
        }
    }

    /// <summary>A broker for <paramref name="options"/>: its port and credentials, and <see cref="EmbeddedBrokerOptions.RetainedFile"/>.</summary>
    public static EmbeddedBroker FromOptions(MqttOptions options, ILogger? logger = null) =>
        new(options.Port, options.Username, options.Password, options.Broker.RetainedFile, logger);

    public int Port { get; }

    public bool IsStarted => _server.IsStarted;

    public async Task StartAsync()
    {
        await _server.StartAsync().ConfigureAwait(false);
        _logger.LogInformation("Embedded MQTT broker listening on 127.0.0.1:{Port} and [::1]:{Port}.", Port, Port);
    }

    /// <summary>
    /// Stops the broker; connected clients' wills are published. Messages the broker has accepted but not yet sent to
    /// a subscriber (a Sparkplug NDEATH or the last answers published just before the stop) are given up to
    /// <paramref name="drain"/> (default 2 s) to leave first: a subscriber would otherwise miss what the service's
    /// last act told it.
    /// </summary>
    public async Task StopAsync(TimeSpan? drain = null)
    {
        if (!_server.IsStarted)
        {
            return;
        }

        // Until nothing is queued for any session and no connection has sent or received a packet for 250 ms
        // (a subscriber still acknowledging a pipelined burst keeps it going), at most the drain time.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan limit = drain ?? TimeSpan.FromSeconds(2);
        long last = -1;
        TimeSpan lastChange = TimeSpan.Zero;
        while (clock.Elapsed < limit)
        {
            IList<MqttSessionStatus> sessions = await _server.GetSessionsAsync().ConfigureAwait(false);
            IList<MqttClientStatus> clients = await _server.GetClientsAsync().ConfigureAwait(false);
            long traffic = clients.Sum(c => c.SentPacketsCount + c.ReceivedPacketsCount);
            if (traffic != last)
            {
                last = traffic;
                lastChange = clock.Elapsed;
            }
            else if (sessions.All(x => x.PendingApplicationMessagesCount == 0) && clock.Elapsed - lastChange >= TimeSpan.FromMilliseconds(250))
            {
                break;
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        await _server.StopAsync(new MqttServerStopOptionsBuilder().Build()).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }

    private Task OnValidatingConnection(ValidatingConnectionEventArgs e)
    {
        bool open = string.IsNullOrEmpty(_username);
        if (!open && (!string.Equals(e.UserName, _username, StringComparison.Ordinal) || !string.Equals(e.Password, _password ?? "", StringComparison.Ordinal)))
        {
            e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            _logger.LogWarning("Embedded broker refused client {ClientId} from {Endpoint}: bad user name or password.", e.ClientId, e.RemoteEndPoint);
            return Task.CompletedTask;
        }

        if (string.IsNullOrEmpty(e.ClientId))
        {
            // MQTT lets a client leave its id empty: 5.0 clients get one assigned (CONNACK carries it); 3.1.1 clients
            // only with a clean session (there is no session to come back to). mosquitto_pub/sub send an empty id.
            if (e.ProtocolVersion != MQTTnet.Formatter.MqttProtocolVersion.V500 && e.CleanSession != true)
            {
                e.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
                _logger.LogWarning("Embedded broker refused a client from {Endpoint}: an empty client id needs a clean session (MQTT 3.1.1).", e.RemoteEndPoint);
                return Task.CompletedTask;
            }

            string assigned = "auto-" + Guid.NewGuid().ToString("N")[..16];
            e.AssignedClientIdentifier = assigned;
            if (e.ProtocolVersion != MQTTnet.Formatter.MqttProtocolVersion.V500 && !AssignLegacyClientId(e, assigned))
            {
                e.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
                _logger.LogWarning("Embedded broker refused a client from {Endpoint}: an empty client id over MQTT 3.1.1 (give one with -i, or use MQTT 5 with -V 5).", e.RemoteEndPoint);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// MQTTnet assigns a client id only to MQTT 5 clients and refuses a 3.1.1 client with an empty one, although MQTT
    /// 3.1.1 (3.1.3-6) lets a server accept it with a clean session by assigning an id. mosquitto_pub/sub speak 3.1.1
    /// by default and send an empty id, so the broker writes the id into the CONNECT packet the event reads
    /// (the event's private field, checked by EmbeddedBrokerTests against the real mosquitto clients).
    /// </summary>
    private static bool AssignLegacyClientId(ValidatingConnectionEventArgs e, string id)
    {
        if (s_connectPacket?.GetValue(e) is MQTTnet.Packets.MqttConnectPacket packet)
        {
            packet.ClientId = id;
            return true;
        }

        return false;
    }

    private static readonly System.Reflection.FieldInfo? s_connectPacket =
        typeof(ValidatingConnectionEventArgs).GetField("_connectPacket", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);

    private Task OnLoadingRetained(LoadingRetainedMessagesEventArgs e)
    {
        try
        {
            if (File.Exists(_retainedFile))
            {
                byte[] json = File.ReadAllBytes(_retainedFile!);
                List<RetainedRecord> records = JsonSerializer.Deserialize(json, RetainedJsonContext.Default.ListRetainedRecord) ?? [];
                e.LoadedRetainedMessages = records.Select(r => new MqttApplicationMessageBuilder()
                    .WithTopic(r.Topic).WithPayload(r.Payload).WithRetainFlag()
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build()).ToList();
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            _logger.LogWarning(ex, "Embedded broker: retained messages in {File} could not be read; starting without them.", _retainedFile);
        }

        return Task.CompletedTask;
    }

    private Task OnRetainedChanged(RetainedMessageChangedEventArgs e)
    {
        var records = e.StoredRetainedMessages.Select(m => new RetainedRecord(m.Topic, m.Payload.ToArray())).ToList();
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(records, RetainedJsonContext.Default.ListRetainedRecord);
        lock (_fileLock)
        {
            string tmp = _retainedFile + ".tmp";
            File.WriteAllBytes(tmp, json);
            File.Move(tmp, _retainedFile!, overwrite: true);
        }

        return Task.CompletedTask;
    }
}

internal sealed record RetainedRecord(string Topic, byte[] Payload);

[JsonSerializable(typeof(List<RetainedRecord>))]
internal sealed partial class RetainedJsonContext : JsonSerializerContext
{
}
