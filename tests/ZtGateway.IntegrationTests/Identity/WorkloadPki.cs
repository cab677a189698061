using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ZtGateway.IntegrationTests.Identity;

/// <summary>
/// A small PKI made in the test: a SPIFFE trust bundle (the client CA of the listener), a CA nobody trusts, the
/// listener's server certificate, and X.509-SVIDs for workloads. PEM files for the segment's <c>tls:</c> keys.
/// </summary>
public sealed class WorkloadPki : IDisposable
{
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");

    private readonly List<X509Certificate2> _issued = [];

    public WorkloadPki()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("ztgw-pki-").FullName;
        Ca = CreateCa("CN=corp.test SPIFFE bundle");
        UntrustedCa = CreateCa("CN=nobody's CA");
        DeviceCa = CreateCa("CN=corp.test MDM device CA");
        Server = Issue(Ca, "CN=127.0.0.1", san =>
        {
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
        }, ServerAuth, X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment);

        CertificateFile = Path.Combine(Directory, "server.pem");
        KeyFile = Path.Combine(Directory, "server.key");
        ClientCaFile = Path.Combine(Directory, "clients-ca.pem");
        File.WriteAllText(CertificateFile, Server.ExportCertificatePem() + "\n" + Ca.ExportCertificatePem() + "\n");
        File.WriteAllText(KeyFile, Server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(ClientCaFile, Ca.ExportCertificatePem());
        DeviceCaFile = Path.Combine(Directory, "mdm-ca.pem");
        File.WriteAllText(DeviceCaFile, DeviceCa.ExportCertificatePem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public string Directory { get; }

    /// <summary>The CA of the trust bundle the listener verifies client certificates against.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>A CA the listener does not know.</summary>
    public X509Certificate2 UntrustedCa { get; }

    /// <summary>The MDM's CA, which issues device certificates (<c>device.certificates.ca</c>).</summary>
    public X509Certificate2 DeviceCa { get; }

    /// <summary>PEM of <see cref="DeviceCa"/>.</summary>
    public string DeviceCaFile { get; }

    public X509Certificate2 Server { get; }

    public string CertificateFile { get; }

    public string KeyFile { get; }

    public string ClientCaFile { get; }

    /// <summary>The <c>tls:</c> section of a segment file that verifies client certificates against <see cref="Ca"/>.</summary>
    public string TlsSection(string clientCertificates = "optional") => $$"""
        tls:
          certificate: {{CertificateFile}}
          key: {{KeyFile}}
          clientCertificates: {{clientCertificates}}
          clientCA: {{ClientCaFile}}
        """;

    /// <summary>An X.509-SVID of <paramref name="spiffeId"/>, issued by the trusted CA or, when asked, by one nobody trusts.</summary>
    public X509Certificate2 Svid(string spiffeId, bool untrusted = false) =>
        Issue(untrusted ? UntrustedCa : Ca, "CN=workload", san => san.AddUri(new Uri(spiffeId)), ClientAuth, X509KeyUsageFlags.DigitalSignature);

    /// <summary>A client certificate without any URI SAN, as an MDM would issue to a device.</summary>
    public X509Certificate2 DeviceCertificate() =>
        Issue(Ca, "CN=laptop-1", san => san.AddDnsName("laptop-1.corp.test"), ClientAuth, X509KeyUsageFlags.DigitalSignature);

    /// <summary>A device certificate the MDM issues: its first URI SAN names the device, its CN and DNS name say other things.</summary>
    public X509Certificate2 MdmDevice(string deviceUri, string commonName = "laptop") =>
        Issue(DeviceCa, "CN=" + commonName, san =>
        {
            san.AddUri(new Uri(deviceUri));
            san.AddDnsName(commonName + ".devices.corp.test");
        }, ClientAuth, X509KeyUsageFlags.DigitalSignature);

    /// <summary>
    /// A client of <paramref name="listener"/> that trusts only <see cref="Server"/>, presents <paramref name="certificate"/>
    /// when the listener asks (whoever issued it), and connects from <paramref name="from"/> (127.0.0.1 by default).
    /// </summary>
    public HttpClient Client(Uri listener, X509Certificate2? certificate, IPAddress? from = null)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                    presented is not null && presented.GetCertHashString(HashAlgorithmName.SHA256) == Server.GetCertHashString(HashAlgorithmName.SHA256),
                LocalCertificateSelectionCallback = certificate is null ? null : (_, _, _, _, _) => certificate,
                ClientCertificates = certificate is null ? null : [certificate],
            },
        };
        if (from is not null)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(from, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpClient(handler) { BaseAddress = listener, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The RFC 8705 <c>x5t#S256</c> of <paramref name="certificate"/>.</summary>
    public static string Thumbprint(X509Certificate2 certificate) =>
        Convert.ToBase64String(SHA256.HashData(certificate.RawData)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        foreach (var certificate in _issued)
        {
            certificate.Dispose();
        }

        Ca.Dispose();
        UntrustedCa.Dispose();
        DeviceCa.Dispose();
        Server.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static X509Certificate2 CreateCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }

    private X509Certificate2 Issue(X509Certificate2 issuer, string subject, Action<SubjectAlternativeNameBuilder> names, Oid usage, X509KeyUsageFlags keyUsage)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        names(san);
        request.CertificateExtensions.Add(san.Build(critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(keyUsage, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(issuer, now.AddHours(-1), now.AddDays(7), serial);
        var withKey = issued.CopyWithPrivateKey(key);

        // A certificate whose key lives only in memory cannot always be used for a TLS handshake: round-trip it through PKCS#12.
        var usable = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        withKey.Dispose();
        _issued.Add(usable);
        return usable;
    }
}
