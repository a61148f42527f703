using System.Text;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

// Shared by the Messaging and Service test projects (compiled into both; see their .csproj).
namespace LlavaUhd.Edge.Tests.Mqtt;

/// <summary>A plain MQTTnet client playing the robot or factory system: subscribes, records, asks.</summary>
public sealed class TestClient : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly Channel<MqttApplicationMessage> _received = Channel.CreateUnbounded<MqttApplicationMessage>();

    private TestClient()
    {
        _client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Writer.TryWrite(e.ApplicationMessage);
            return Task.CompletedTask;
        };
    }

    public static Task<TestClient> ConnectAsync(int port, MqttProtocolVersion version = MqttProtocolVersion.V500, params string[] filters) =>
        ConnectAsync(port, version, null, TestPorts.User, TestPorts.Password, filters);

    /// <summary>
    /// A client whose session outlives its connection (clean start off, expiry one hour): on a broker with persistence
    /// its subscriptions and the QoS 1 messages queued for it survive a graceful broker restart, so a reconnect cannot
    /// race the publisher.
    /// </summary>
    public static Task<TestClient> ConnectPersistentAsync(int port, params string[] filters) =>
        ConnectAsync(port, MqttProtocolVersion.V500, null, TestPorts.User, TestPorts.Password, persistentSession: true, filters);

    /// <summary>With <paramref name="tls"/>: over TLS, trusting the test CA and presenting its client certificate.</summary>
    public static Task<TestClient> ConnectAsync(int port, MqttProtocolVersion version, TestCertificates? tls, string user, string password, params string[] filters) =>
        ConnectAsync(port, version, tls, user, password, persistentSession: false, filters);

    private static async Task<TestClient> ConnectAsync(int port, MqttProtocolVersion version, TestCertificates? tls, string user, string password, bool persistentSession, string[] filters)
    {
        var c = new TestClient();
        MqttClientOptionsBuilder options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId("test-" + Guid.NewGuid().ToString("N")[..8])
            .WithProtocolVersion(version)
            .WithCredentials(user, password)
            .WithTimeout(TimeSpan.FromSeconds(5));
        if (persistentSession)
        {
            options = options.WithCleanStart(false).WithSessionExpiryInterval(3600);
        }

        if (tls is not null)
        {
            var chain = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
            chain.ImportFromPemFile(tls.CaFile);
            options = options.WithTlsOptions(o => o.UseTls().WithTargetHost("127.0.0.1").WithTrustChain(chain)
                .WithRevocationMode(System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck)
                .WithClientCertificates(new System.Security.Cryptography.X509Certificates.X509Certificate2Collection(
                    System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(tls.ClientCertFile, tls.ClientKeyFile))));
        }

        MqttClientConnectResult r = await c._client.ConnectAsync(options.Build());
        Assert.Equal(MqttClientConnectResultCode.Success, r.ResultCode);
        foreach (string f in filters)
        {
            await c._client.SubscribeAsync(f, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        return c;
    }

    public IMqttClient Client => _client;

    public Task PublishAsync(string topic, byte[] payload, string? responseTopic = null, byte[]? correlation = null)
    {
        var b = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (responseTopic is not null)
        {
            b = b.WithResponseTopic(responseTopic);
        }

        if (correlation is not null)
        {
            b = b.WithCorrelationData(correlation);
        }

        return _client.PublishAsync(b.Build());
    }

    public Task PublishAsync(string topic, string payload, string? responseTopic = null, byte[]? correlation = null) =>
        PublishAsync(topic, Encoding.UTF8.GetBytes(payload), responseTopic, correlation);

    /// <summary>The next received message that matches, within the timeout (others are kept for later calls? no: skipped).</summary>
    public async Task<MqttApplicationMessage> NextAsync(Func<MqttApplicationMessage, bool>? match = null, double timeoutSeconds = 10)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (true)
        {
            MqttApplicationMessage m = await _received.Reader.ReadAsync(cts.Token);
            if (match is null || match(m))
            {
                return m;
            }
        }
    }

    /// <summary>Messages received until <paramref name="count"/> have matched or the timeout passes.</summary>
    public async Task<List<MqttApplicationMessage>> CollectAsync(int count, Func<MqttApplicationMessage, bool>? match = null, double timeoutSeconds = 15)
    {
        var list = new List<MqttApplicationMessage>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            while (list.Count < count)
            {
                MqttApplicationMessage m = await _received.Reader.ReadAsync(cts.Token);
                if (match is null || match(m))
                {
                    list.Add(m);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return list;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
    }
}
