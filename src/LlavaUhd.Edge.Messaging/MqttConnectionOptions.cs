using System.Security.Cryptography.X509Certificates;
using LlavaUhd.Edge.Messaging.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// The MQTTnet client options of a connection to the configured broker: address, protocol, credentials, keep-alive,
/// timeout and TLS from <see cref="MqttOptions"/>, with the connection's own client id, session and Last Will. The
/// device's main connection and the Sparkplug B connection both come from here, so they reach the broker alike.
/// </summary>
internal static class MqttConnectionOptions
{
    /// <param name="o">The validated MQTT options.</param>
    /// <param name="clientId">This connection's client id (unique per broker).</param>
    /// <param name="cleanStart">Start without the broker's stored session.</param>
    /// <param name="sessionExpirySeconds">MQTT 5 session expiry (0: the session ends with the connection).</param>
    /// <param name="willTopic">The Last Will's topic.</param>
    /// <param name="willPayload">The Last Will's payload.</param>
    /// <param name="willRetain">Whether the broker retains the will.</param>
    /// <param name="willQos">The will's QoS.</param>
    public static MqttClientOptions Build(
        MqttOptions o,
        string clientId,
        bool cleanStart,
        uint sessionExpirySeconds,
        string willTopic,
        byte[] willPayload,
        bool willRetain,
        MqttQualityOfServiceLevel willQos)
    {
        MqttClientOptionsBuilder b = new MqttClientOptionsBuilder()
            .WithTcpServer(o.EmbeddedBroker ? "127.0.0.1" : o.Host, o.Port)
            .WithClientId(clientId)
            .WithProtocolVersion(o.ProtocolVersion == 5 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311)
            .WithCleanStart(cleanStart)
            .WithSessionExpiryInterval(o.ProtocolVersion == 5 ? sessionExpirySeconds : 0u)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(o.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(o.TimeoutSeconds))
            .WithWillTopic(willTopic)
            .WithWillPayload(willPayload)
            .WithWillRetain(willRetain)
            .WithWillQualityOfServiceLevel(willQos);
        if (!string.IsNullOrEmpty(o.Username))
        {
            b = b.WithCredentials(o.Username, o.Password ?? "");
        }

        if (o.Tls.Enabled)
        {
            MqttTlsOptions t = o.Tls;
            b = b.WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost(string.IsNullOrEmpty(t.TargetHost) ? o.Host : t.TargetHost);
                if (!string.IsNullOrEmpty(t.CaFile))
                {
                    var chain = new X509Certificate2Collection();
                    chain.ImportFromPemFile(t.CaFile);
                    tls.WithTrustChain(chain).WithRevocationMode(X509RevocationMode.NoCheck);
                }

                if (!string.IsNullOrEmpty(t.ClientCertFile))
                {
                    tls.WithClientCertificates(new X509Certificate2Collection(X509Certificate2.CreateFromPemFile(t.ClientCertFile, t.ClientKeyFile)));
                }

                if (t.AllowUntrusted)
                {
                    tls.WithAllowUntrustedCertificates().WithIgnoreCertificateChainErrors().WithCertificateValidationHandler(_ => true);
                }
            });
        }

        return b.Build();
    }
}
