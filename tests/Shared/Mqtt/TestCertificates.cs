using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

// Shared by the Messaging and Service test projects (compiled into both; see their .csproj).
namespace LlavaUhd.Edge.Tests.Mqtt;

/// <summary>
/// A private CA, a broker certificate for 127.0.0.1/localhost and a client certificate it signed, plus a second CA
/// that signed nothing here (a broker the device must not trust), written as PEM files the way a plant's PKI hands
/// them out. Made with .NET's own X.509 builder: RSA 2048, SHA-256, valid for one day.
/// </summary>
public sealed class TestCertificates
{
    private TestCertificates(string dir)
    {
        Directory = dir;
    }

    public string Directory { get; }

    public string CaFile => Path.Combine(Directory, "ca.pem");

    public string OtherCaFile => Path.Combine(Directory, "other-ca.pem");

    public string ServerCertFile => Path.Combine(Directory, "server.pem");

    public string ServerKeyFile => Path.Combine(Directory, "server.key");

    public string ClientCertFile => Path.Combine(Directory, "client.pem");

    public string ClientKeyFile => Path.Combine(Directory, "client.key");

    public static TestCertificates Create(string dir)
    {
        var certs = new TestCertificates(dir);
        using X509Certificate2 ca = SelfSignedCa("llava-edge test CA");
        using X509Certificate2 other = SelfSignedCa("some other CA");
        File.WriteAllText(certs.CaFile, ca.ExportCertificatePem());
        File.WriteAllText(certs.OtherCaFile, other.ExportCertificatePem());

        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        Issue(ca, "CN=127.0.0.1", san.Build(), serverAuth: true, certs.ServerCertFile, certs.ServerKeyFile);
        Issue(ca, "CN=edge-device-01", null, serverAuth: false, certs.ClientCertFile, certs.ClientKeyFile);
        return certs;
    }

    private static X509Certificate2 SelfSignedCa(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static void Issue(X509Certificate2 ca, string subject, X509Extension? san, bool serverAuth, string certFile, string keyFile)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (san is not null)
        {
            request.CertificateExtensions.Add(san);
        }

        byte[] serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using X509Certificate2 cert = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(23), serial);
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    }
}
