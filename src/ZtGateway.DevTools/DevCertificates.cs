using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.DevTools;

/// <summary>What <see cref="DevCertificates.Create"/> did with one certificate and its key.</summary>
/// <param name="Certificate">Path of the PEM certificate.</param>
/// <param name="Key">Path of the PEM key (mode 0600 on Unix).</param>
/// <param name="Written">True when written now; false when both files existed and were kept.</param>
/// <param name="What">What the certificate is for, for the command's output.</param>
internal sealed record DevCertificateFile(string Certificate, string Key, bool Written, string What);

/// <summary>
/// Development TLS material for <c>ztgw dev certs</c>, from the policy's own names: a development CA and a server
/// certificate per segment (127.0.0.1, ::1, localhost and the segment's name), a client CA (the SPIFFE trust bundle)
/// and an X.509-SVID for every SPIFFE workload the segments name (<c>members.workloads</c>, <c>services.*.identity</c>),
/// and the gateway's client certificate for mTLS to upstreams. EC P-256 keys. An existing file is never replaced unless
/// asked to; a CA that exists signs what is missing. Never for production.
/// </summary>
internal static class DevCertificates
{
    /// <summary>The CA of the listeners' certificates (and of development upstreams): <c>dev-ca.pem</c>.</summary>
    public const string ServerCa = "dev-ca";

    /// <summary>The CA of client certificates, the SPIFFE trust bundle a listener's <c>clientCA</c> names: <c>clients-ca.pem</c>.</summary>
    public const string ClientCa = "clients-ca";

    /// <summary>The gateway's own client certificate for upstreams that ask for one: <c>gateway-client.pem</c>.</summary>
    public const string GatewayClient = "gateway-client";

    private const string Spiffe = "spiffe://";
    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(5 * 365);
    private static readonly TimeSpan LeafLifetime = TimeSpan.FromDays(365);

    /// <summary>
    /// Writes the material into <paramref name="folder"/>. Throws <see cref="IOException"/> before writing anything when
    /// exactly one of a certificate and its key exists (there is no way to complete the pair without replacing one).
    /// </summary>
    public static IReadOnlyList<DevCertificateFile> Create(PolicySet policy, string folder, bool overwrite, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var now = timeProvider.GetUtcNow();
        var segments = policy.Segments.Values.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        var workloads = SpiffeIds(segments);
        var trustDomain = workloads.Select(TrustDomain).FirstOrDefault() ?? "corp.example";

        var plan = new List<(string Stem, string What)> { (ServerCa, "development CA"), (ClientCa, "client CA (SPIFFE trust bundle)") };
        plan.AddRange(segments.Select(s => (s.Name, $"server certificate of segment '{s.Name}'")));
        plan.AddRange(workloads.Select(w => (Path.Combine("workloads", FileStem(w)), $"X.509-SVID {w}")));
        plan.Add((GatewayClient, "gateway client certificate (mTLS to upstreams)"));
        if (!overwrite)
        {
            foreach (var (stem, _) in plan)
            {
                var (certificate, key) = Paths(folder, stem);
                if (File.Exists(certificate) != File.Exists(key))
                {
                    var present = File.Exists(certificate) ? certificate : key;
                    throw new IOException($"{present} exists without {(present == certificate ? key : certificate)}; remove it or use --force");
                }
            }

            // A leaf that is kept must be one its CA signed: a new CA beside old leaves would leave them trusted by nothing.
            var issuedBy = new Dictionary<string, IEnumerable<string>>(StringComparer.Ordinal)
            {
                [ServerCa] = segments.Select(s => s.Name),
                [ClientCa] = [.. workloads.Select(w => Path.Combine("workloads", FileStem(w))), GatewayClient],
            };
            foreach (var (ca, leaves) in issuedBy)
            {
                var orphan = leaves.Select(l => Paths(folder, l).Certificate).FirstOrDefault(File.Exists);
                if (!File.Exists(Paths(folder, ca).Certificate) && orphan is not null)
                {
                    throw new IOException($"{orphan} exists but its CA {Paths(folder, ca).Certificate} does not; remove it or use --force");
                }
            }
        }

        var results = new List<DevCertificateFile>();
        using var serverCa = Authority(folder, ServerCa, "ZtGateway development CA", overwrite, now, results, "development CA");
        using var clientCa = Authority(folder, ClientCa, "ZtGateway development client CA", overwrite, now, results, "client CA (SPIFFE trust bundle)");
        foreach (var segment in segments)
        {
            Leaf(folder, segment.Name, overwrite, results, $"server certificate of segment '{segment.Name}'",
                () => Issue(serverCa, segment.Name, now, Server(segment.Name), [Oids.ServerAuth]));
        }

        foreach (var workload in workloads)
        {
            Leaf(folder, Path.Combine("workloads", FileStem(workload)), overwrite, results, $"X.509-SVID {workload}",
                () => Issue(clientCa, null, now, Uri(workload), [Oids.ClientAuth, Oids.ServerAuth]));
        }

        Leaf(folder, GatewayClient, overwrite, results, "gateway client certificate (mTLS to upstreams)",
            () => Issue(clientCa, "ztgw", now, Uri($"{Spiffe}{trustDomain}/ztgw"), [Oids.ClientAuth]));
        return results;
    }

    /// <summary>The SPIFFE ids the segments name as members or service identities, in order, once each.</summary>
    public static IReadOnlyList<string> SpiffeIds(IEnumerable<SegmentConfig> segments) =>
        [.. segments
            .SelectMany(s => s.Members.Workloads.Concat(s.Services.Values.Select(v => v.Identity).OfType<string>()))
            .Where(w => w.StartsWith(Spiffe, StringComparison.Ordinal) && System.Uri.TryCreate(w, UriKind.Absolute, out _))
            .Distinct(StringComparer.Ordinal)];

    /// <summary>The file name of a workload's SVID: its path with '-' for '/', <c>spiffe://corp.example/hr/payroll-engine</c> gives <c>hr-payroll-engine</c>.</summary>
    public static string FileStem(string spiffeId)
    {
        var path = new Uri(spiffeId).AbsolutePath.Trim('/');
        var stem = new string([.. path.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]);
        return stem.Length == 0 ? TrustDomain(spiffeId) : stem;
    }

    private static string TrustDomain(string spiffeId) => new Uri(spiffeId).Host;

    private static (string Certificate, string Key) Paths(string folder, string stem) =>
        (Path.Combine(folder, stem + ".pem"), Path.Combine(folder, stem + ".key"));

    private static X509Certificate2 Authority(string folder, string stem, string name, bool overwrite, DateTimeOffset now, List<DevCertificateFile> results,
        string what)
    {
        var (certificatePath, keyPath) = Paths(folder, stem);
        if (!overwrite && File.Exists(certificatePath))
        {
            results.Add(new DevCertificateFile(certificatePath, keyPath, Written: false, what));
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, O=ZtGateway development", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var ca = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(CaLifetime));
        Write(ca, certificatePath, keyPath);
        results.Add(new DevCertificateFile(certificatePath, keyPath, Written: true, what));
        return ca;
    }

    private static void Leaf(string folder, string stem, bool overwrite, List<DevCertificateFile> results, string what, Func<X509Certificate2> issue)
    {
        var (certificatePath, keyPath) = Paths(folder, stem);
        if (!overwrite && File.Exists(certificatePath))
        {
            results.Add(new DevCertificateFile(certificatePath, keyPath, Written: false, what));
            return;
        }

        using var certificate = issue();
        Write(certificate, certificatePath, keyPath);
        results.Add(new DevCertificateFile(certificatePath, keyPath, Written: true, what));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string? commonName, DateTimeOffset now, X509Extension subjectAlternativeName, Oid[] usages)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = commonName is null ? new X500DistinguishedName("O=ZtGateway development") : new X500DistinguishedName($"CN={commonName}, O=ZtGateway development");
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        var purposes = new OidCollection();
        foreach (var usage in usages)
        {
            purposes.Add(usage);
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(purposes, critical: false));
        request.CertificateExtensions.Add(subjectAlternativeName);
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var notAfter = now.Add(LeafLifetime) < ca.NotAfter ? now.Add(LeafLifetime) : new DateTimeOffset(ca.NotAfter.ToUniversalTime());
        using var issued = request.Create(ca, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    private static X509Extension Server(string segment)
    {
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        names.AddDnsName("localhost");
        names.AddDnsName(segment);
        return names.Build(critical: false);
    }

    // An X.509-SVID names its workload by exactly one URI SAN (the SPIFFE id) and nothing else.
    private static X509Extension Uri(string spiffeId)
    {
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri(spiffeId));
        return names.Build(critical: false);
    }

    private static void Write(X509Certificate2 certificate, string certificatePath, string keyPath)
    {
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the certificate has no EC private key");
        DevKeys.WriteFile(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n", ownerOnly: true);
        DevKeys.WriteFile(certificatePath, certificate.ExportCertificatePem() + "\n", ownerOnly: false);
    }

    private static class Oids
    {
        public static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
        public static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    }
}
