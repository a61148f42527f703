using System.Text.Json;
using LlavaUhd.Edge.Messaging.Options;
using LlavaUhd.Edge.Messaging.Outbox;
using LlavaUhd.Edge.Messaging.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;

namespace LlavaUhd.Edge.Messaging.Tests;

/// <summary>
/// TLS to a real mosquitto TLS listener (a private CA, a broker certificate, a client certificate and a password, all
/// made here) under a topic ACL that allows the device only its own topic tree and the askers' reply topics.
/// </summary>
public sealed class TlsAndAclTests : IAsyncLifetime
{
    private const string Asker = "asker";
    private const string AskerPassword = "ask-pw";
    private TestCertificates _certs = null!;
    private MosquittoProcess _broker = null!;
    private string _device = "";

    public async Task InitializeAsync()
    {
        _certs = TestCertificates.Create(Directory.CreateTempSubdirectory("llava-tls-").FullName);
        _device = "dev-" + Guid.NewGuid().ToString("N")[..8];
        // the device (user "edge") may use its own tree and answer on reply topics; the asker may do anything
        string acl = $"""
            user {TestPorts.User}
            topic readwrite llavauhd-test/{_device}/#
            topic write replies/#

            user {Asker}
            topic readwrite #

            """;
        _broker = new MosquittoProcess(_certs, acl, (Asker, AskerPassword));
        await _broker.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_certs.Directory, recursive: true);
    }

    private MqttOptions Options(string device, string? caFile = null, bool clientCert = true)
    {
        MqttOptions o = TestDevice.NewOptions(_broker.Port, deviceId: device);
        o.Tls = new MqttTlsOptions
        {
            Enabled = true,
            CaFile = caFile ?? _certs.CaFile,
            ClientCertFile = clientCert ? _certs.ClientCertFile : null,
            ClientKeyFile = clientCert ? _certs.ClientKeyFile : null,
        };
        return o;
    }

    [Fact]
    public async Task OverTls_WithClientCertificateAndPassword_UnderTheAcl_QuestionsAreAnswered_AndNothingIsDenied()
    {
        await using TestDevice device = await TestDevice.StartAsync(Options(_device));
        await using TestClient asker = await TestClient.ConnectAsync(_broker.Port, MqttProtocolVersion.V500, _certs, Asker, AskerPassword,
            $"llavauhd-test/{_device}/#", "replies/#");
        MqttApplicationMessage available = await asker.NextAsync(m => m.Topic.EndsWith("/available", StringComparison.Ordinal), 15);
        Assert.Equal("online", available.ConvertPayloadToString());
        Assert.True(available.Retain);

        await asker.PublishAsync($"llavauhd-test/{_device}/cam1/ask", """{"question":"Anything on the belt?","id":"tls-1"}""", "replies/tls", [1, 2, 3]);
        MqttApplicationMessage reply = await asker.NextAsync(m => m.Topic == "replies/tls", 15);
        Assert.Equal("tls-1", JsonDocument.Parse(reply.ConvertPayloadToString()).RootElement.GetProperty("question_id").GetString());
        Assert.Equal([1, 2, 3], reply.CorrelationData.ToArray());
        MqttApplicationMessage copy = await asker.NextAsync(m => m.Topic == $"llavauhd-test/{_device}/cam1/answer", 15);
        Assert.Contains("echo: Anything on the belt?", copy.ConvertPayloadToString(), StringComparison.Ordinal);

        // a bad request's error also stays inside the tree
        await asker.PublishAsync($"llavauhd-test/{_device}/cam1/ask", "{not json");
        await asker.NextAsync(m => m.Topic == $"llavauhd-test/{_device}/errors", 15);

        await device.Client.StopAsync();
        Assert.DoesNotContain("Denied", _broker.Log, StringComparison.Ordinal);
        Assert.Contains("New client connected", _broker.Log, StringComparison.Ordinal);   // the log is on: a denial would be there
    }

    [Fact]
    public async Task ADeviceOutsideItsAcl_IsDenied_ByTheBroker()
    {
        // the negative control of the test above: the same device under another id is outside the ACL
        await using TestDevice device = await TestDevice.StartAsync(Options("intruder"));
        await using TestClient asker = await TestClient.ConnectAsync(_broker.Port, MqttProtocolVersion.V500, _certs, Asker, AskerPassword, "llavauhd-test/#");
        await asker.PublishAsync("llavauhd-test/intruder/cam1/ask", """{"question":"Anything?","id":"x"}""", "replies/x");
        await BrokerScenarios.WaitUntilAsync(() => _broker.Log.Contains("Denied PUBLISH", StringComparison.Ordinal), 15);
    }

    [Fact]
    public async Task AnUntrustedBroker_OrNoClientCertificate_IsRefused_AndLoggedWithTheReason()
    {
        foreach ((MqttOptions options, string expect) in new[]
        {
            (Options(_device, caFile: _certs.OtherCaFile), "certificate"),   // the broker's certificate is not from the CA the device trusts
            (Options(_device, clientCert: false), "cannot connect"),        // the broker requires a client certificate
        })
        {
            var log = new CapturingLogger<EdgeMqttClient>();
            using AnswerOutbox outbox = AnswerOutbox.Open(options.Outbox);
            await using var client = new EdgeMqttClient(options, TestDevice.Cameras, outbox, new EchoHandler(), logger: log);
            await client.StartAsync();
            await BrokerScenarios.WaitUntilAsync(() => log.Lines.Any(l => l.Text.Contains("cannot connect", StringComparison.Ordinal)), 15);
            string line = log.Lines.First(l => l.Text.Contains("cannot connect", StringComparison.Ordinal)).Text;
            Assert.Contains(expect, line, StringComparison.OrdinalIgnoreCase);
            Assert.False(client.IsConnected);
            await client.StopAsync();
        }
    }
}
