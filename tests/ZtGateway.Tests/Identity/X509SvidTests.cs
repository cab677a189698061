using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.JsonWebTokens;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Identity;

/// <summary>Reading a verified client certificate as an X.509-SVID: what it names, and every way it is not one.</summary>
public sealed class X509SvidTests
{
    [Fact]
    public void AValidSvid_NamesItsWorkload_AsATokenWould()
    {
        using var certificate = TestCertificates.Svid();

        var reading = X509Svid.Read(certificate);

        Assert.Null(reading.Failure);
        Assert.True(reading.ClaimsSpiffe);
        Assert.Equal("corp.example", reading.TrustDomain);
        var workload = Assert.IsType<Principal>(reading.Workload);
        Assert.Equal(PrincipalKind.Workload, workload.Kind);
        Assert.Equal(TestCertificates.PayrollEngine, workload.Subject);
        Assert.Equal(TestCertificates.PayrollEngine, workload.WorkloadId);
        Assert.Equal("x509:corp.example", workload.Issuer);
        Assert.Equal(new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero), workload.IssuedAt);
        Assert.Empty(workload.Amr);
    }

    [Fact]
    public void TheCertificatesWorkload_HasTheShapeOfTheTokenWorkload_ThatNamesTheSameSpiffeId()
    {
        using var certificate = TestCertificates.Svid();
        var claims = TestTokens.Claims("https://idp.example", "ztgw", DateTimeOffset.UtcNow, subject: TestCertificates.PayrollEngine);
        var fromToken = PrincipalMapper.Map(new JsonWebToken(TestTokens.Unsigned(claims)), out _)!;

        var fromCertificate = X509Svid.Read(certificate).Workload!;

        Assert.Equal(
            (fromToken.Kind, fromToken.Subject, fromToken.WorkloadId),
            (fromCertificate.Kind, fromCertificate.Subject, fromCertificate.WorkloadId));
        Assert.Equal(fromToken with { Issuer = fromCertificate.Issuer, IssuedAt = fromCertificate.IssuedAt }, fromCertificate, PrincipalShape.Instance);
    }

    [Fact]
    public void TheThumbprint_IsTheBase64UrlSha256OfTheDerCertificate()
    {
        using var certificate = TestCertificates.Create([]);

        Assert.Equal(TestCertificates.Thumbprint(certificate), X509Svid.Read(certificate).Thumbprint);
        Assert.Equal(43, X509Svid.Read(certificate).Thumbprint.Length);
    }

    [Fact]
    public void OneCertificate_IsReadOnce()
    {
        using var certificate = TestCertificates.Svid();

        Assert.Same(X509Svid.Read(certificate), X509Svid.Read(certificate));
        Assert.Same(X509Svid.Read(certificate).Workload, X509Svid.Read(certificate).Workload);
    }

    public static TheoryData<string, string> NotSvids => new()
    {
        { "two spiffe ids", "it has 2 URI SANs; an X.509-SVID has exactly one" },
        { "a spiffe id and another URI", "it has 2 URI SANs; an X.509-SVID has exactly one" },
        { "a CA", "it is a CA certificate; an X.509-SVID of a workload is a leaf" },
        { "a key that signs certificates", "its key usage allows signing certificates or CRLs; an X.509-SVID of a workload is a leaf" },
        { "a key that signs CRLs", "its key usage allows signing certificates or CRLs; an X.509-SVID of a workload is a leaf" },
        { "no digitalSignature", "its key usage lacks digitalSignature" },
        { "an upper-case trust domain", "its SPIFFE id has an invalid trust domain (lower-case letters, digits, '.', '-' and '_' only; no port or user info)" },
        { "a port", "its SPIFFE id has an invalid trust domain (lower-case letters, digits, '.', '-' and '_' only; no port or user info)" },
        { "a query", "its SPIFFE id has a path character other than letters, digits, '.', '-' and '_' (no query, fragment or percent-encoding)" },
        { "a dot segment", "its SPIFFE id has a '.' or '..' path segment" },
        { "no path", "its SPIFFE id has no path: it names a trust domain, not a workload" },
        { "an upper-case scheme", "its SPIFFE id does not start with spiffe:// in lower case" },
    };

    [Theory]
    [MemberData(nameof(NotSvids))]
    public void ACertificateThatClaimsSpiffe_ButIsNoSvid_SaysWhy(string shape, string failure)
    {
        using var certificate = shape switch
        {
            "two spiffe ids" => TestCertificates.Create([TestCertificates.PayrollEngine, "spiffe://corp.example/hr/other"]),
            "a spiffe id and another URI" => TestCertificates.Create([TestCertificates.PayrollEngine, "https://hr.corp.example/"]),
            "a CA" => TestCertificates.Create([TestCertificates.PayrollEngine], certificateAuthority: true),
            "a key that signs certificates" => TestCertificates.Create([TestCertificates.PayrollEngine],
                X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign),
            "a key that signs CRLs" => TestCertificates.Create([TestCertificates.PayrollEngine], X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.CrlSign),
            "no digitalSignature" => TestCertificates.Create([TestCertificates.PayrollEngine], X509KeyUsageFlags.KeyEncipherment),
            "an upper-case trust domain" => TestCertificates.Create(["spiffe://Corp.example/hr/payroll-engine"]),
            "a port" => TestCertificates.Create(["spiffe://corp.example:8443/hr/payroll-engine"]),
            "a query" => TestCertificates.Create(["spiffe://corp.example/hr/payroll-engine?x=1"]),
            "a dot segment" => TestCertificates.Create(["spiffe://corp.example/hr/../finance"]),
            "no path" => TestCertificates.Create(["spiffe://corp.example"]),
            "an upper-case scheme" => TestCertificates.Create(["SPIFFE://corp.example/hr/payroll-engine"]),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };

        var reading = X509Svid.Read(certificate);

        Assert.True(reading.ClaimsSpiffe);
        Assert.Null(reading.Workload);
        Assert.Null(reading.TrustDomain);
        Assert.Equal(failure, reading.Failure);
    }

    [Fact]
    public void ALeafWithoutKeyUsageOrBasicConstraints_IsAnSvid()
    {
        using var certificate = TestCertificates.Create([TestCertificates.PayrollEngine], keyUsage: null, certificateAuthority: null);

        Assert.NotNull(X509Svid.Read(certificate).Workload);
    }

    [Theory]
    [InlineData("")]
    [InlineData("https://device.corp.example/laptop-1")]
    [InlineData("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66")]
    public void ACertificateWithoutASpiffeUri_DoesNotClaimToBeAnSvid(string uri)
    {
        using var certificate = TestCertificates.Create(uri.Length == 0 ? [] : [uri], dnsName: "laptop-1.corp.example");

        var reading = X509Svid.Read(certificate);

        Assert.False(reading.ClaimsSpiffe);
        Assert.Null(reading.Workload);
        Assert.Equal("it has no spiffe:// URI SAN", reading.Failure);
    }
}

/// <summary>Two principals are alike when every member the engine, the assertion and the audit read is equal (lists by content).</summary>
internal sealed class PrincipalShape : IEqualityComparer<Principal>
{
    public static readonly PrincipalShape Instance = new();

    public bool Equals(Principal? x, Principal? y) =>
        x is not null && y is not null
        && (x.Kind, x.Subject, x.Issuer, x.WorkloadId, x.Acr, x.AuthTime, x.IssuedAt, x.SessionId)
            == (y.Kind, y.Subject, y.Issuer, y.WorkloadId, y.Acr, y.AuthTime, y.IssuedAt, y.SessionId)
        && x.Groups.SequenceEqual(y.Groups) && x.Roles.SequenceEqual(y.Roles) && x.Amr.SequenceEqual(y.Amr);

    public int GetHashCode(Principal obj) => obj.Subject.GetHashCode(StringComparison.Ordinal);
}
