using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Identity;

/// <summary>
/// The client certificate beside the token, per request: a workload certificate as the credential, a token and a
/// certificate that must agree, a bound token and its certificate, and what is ignored.
/// </summary>
public sealed class WorkloadCertificatesTests : IDisposable
{
    private const string LedgerSync = "spiffe://corp.example/finance/ledger-sync";

    private static readonly WorkloadCertificateSettings Corp = new() { TrustDomains = ["partner.example", "corp.example"] };

    private static readonly TokenValidationOutcome NoToken = new(TokenStatus.Missing, null, null, "no bearer token", null);

    private readonly X509Certificate2 _payroll = TestCertificates.Svid();
    private readonly X509Certificate2 _foreign = TestCertificates.Svid("spiffe://other.example/hr/payroll-engine");
    private readonly X509Certificate2 _device = TestCertificates.Create([], dnsName: "laptop-1.corp.example");
    private readonly X509Certificate2 _ca = TestCertificates.Create([TestCertificates.PayrollEngine], certificateAuthority: true);

    public void Dispose()
    {
        _payroll.Dispose();
        _foreign.Dispose();
        _device.Dispose();
        _ca.Dispose();
    }

    [Fact]
    public void NoCertificate_AndNoBinding_IsTheTokenAsItCame()
    {
        var token = Workload(LedgerSync);

        Assert.Same(token, WorkloadCertificates.Resolve(token, null, Corp));
        Assert.Same(NoToken, WorkloadCertificates.Resolve(NoToken, null, Corp));
    }

    [Fact]
    public void AWorkloadCertificateAlone_AuthenticatesItsWorkload()
    {
        var outcome = WorkloadCertificates.Resolve(NoToken, _payroll, Corp);

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Equal(CredentialBinding.Certificate, outcome.Binding);
        var principal = Assert.IsType<Principal>(outcome.Principal);
        Assert.Equal((PrincipalKind.Workload, TestCertificates.PayrollEngine, TestCertificates.PayrollEngine), (principal.Kind, principal.Subject, principal.WorkloadId));
        Assert.Equal(new DateTimeOffset(_payroll.NotAfter.ToUniversalTime(), TimeSpan.Zero), outcome.Expires);
    }

    [Fact]
    public void WithoutWorkloadCertificates_NoCertificateNamesAWorkload()
    {
        var outcome = WorkloadCertificates.Resolve(NoToken, _payroll, settings: null);

        Assert.Equal(TokenStatus.Missing, outcome.Status);
        Assert.Null(outcome.Principal);
    }

    [Fact]
    public void AnSvidOfAnotherTrustDomain_Alone_IsTokenInvalid_AndTheLogSaysWhy()
    {
        var outcome = WorkloadCertificates.Resolve(NoToken, _foreign, Corp);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Null(outcome.Principal);
        Assert.Equal(
            "client certificate spiffe://other.example/hr/payroll-engine is of trust domain other.example, which identity.workloadCertificates.trustDomains does not name",
            outcome.Detail);
        Assert.False(outcome.BoundToAnotherCertificate);
    }

    [Fact]
    public void ACertificateThatClaimsSpiffe_ButIsNoSvid_Alone_IsTokenInvalid()
    {
        var outcome = WorkloadCertificates.Resolve(NoToken, _ca, Corp);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal("client certificate is not an X.509-SVID: it is a CA certificate; an X.509-SVID of a workload is a leaf", outcome.Detail);
    }

    [Fact]
    public void ACertificateWithoutSpiffe_IsNoCredential()
    {
        var outcome = WorkloadCertificates.Resolve(NoToken, _device, Corp);

        Assert.Equal(TokenStatus.Missing, outcome.Status);
    }

    [Fact]
    public void ATokenAndACertificateNamingTheSameWorkload_AreOneBoundCredential()
    {
        var token = Workload(TestCertificates.PayrollEngine);

        var outcome = WorkloadCertificates.Resolve(token, _payroll, Corp);

        Assert.Equal(TokenStatus.Valid, outcome.Status);
        Assert.Same(token.Principal, outcome.Principal);
        Assert.Equal(CredentialBinding.Certificate, outcome.Binding);
    }

    [Fact]
    public void ATokenAndACertificateNamingDifferentWorkloads_AreTokenInvalid()
    {
        var outcome = WorkloadCertificates.Resolve(Workload(LedgerSync), _payroll, Corp);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Null(outcome.Principal);
        Assert.Equal($"client certificate names workload {TestCertificates.PayrollEngine}; the token names workload {LedgerSync}", outcome.Detail);
    }

    [Fact]
    public void AUserTokenOverAWorkloadCertificate_IsTokenInvalid()
    {
        var outcome = WorkloadCertificates.Resolve(User(), _payroll, Corp);

        Assert.Equal(TokenStatus.Invalid, outcome.Status);
        Assert.Equal($"client certificate names workload {TestCertificates.PayrollEngine}; the token is a user's", outcome.Detail);
    }

    [Theory]
    [InlineData("foreign")]
    [InlineData("ca")]
    [InlineData("device")]
    public void WithAValidToken_ACertificateThatNamesNoWorkload_IsIgnored(string which)
    {
        var token = User();
        var certificate = which switch { "foreign" => _foreign, "ca" => _ca, _ => _device };

        var outcome = WorkloadCertificates.Resolve(token, certificate, Corp);

        Assert.Same(token, outcome);
    }

    [Fact]
    public void ARefusedToken_IsNeverRescuedByACertificate()
    {
        var expired = new TokenValidationOutcome(TokenStatus.Expired, null, "corp", "token expired", null);
        var invalid = new TokenValidationOutcome(TokenStatus.Invalid, null, "corp", "signature invalid", null);

        Assert.Same(expired, WorkloadCertificates.Resolve(expired, _payroll, Corp));
        Assert.Same(invalid, WorkloadCertificates.Resolve(invalid, _payroll, Corp));
    }

    [Fact]
    public void ABoundToken_WithItsCertificate_IsBound_WhateverTheCertificateNames()
    {
        var token = User() with { ConfirmationThumbprint = TestCertificates.Thumbprint(_device) };

        var outcome = WorkloadCertificates.Resolve(token, _device, Corp);

        Assert.Equal((TokenStatus.Valid, CredentialBinding.BoundToken), (outcome.Status, outcome.Binding));
        Assert.Equal(CredentialBinding.BoundToken, WorkloadCertificates.Resolve(token, _device, settings: null).Binding);
    }

    [Fact]
    public void ABoundWorkloadToken_WithItsOwnSvid_IsBound()
    {
        var token = Workload(TestCertificates.PayrollEngine) with { ConfirmationThumbprint = TestCertificates.Thumbprint(_payroll) };

        var outcome = WorkloadCertificates.Resolve(token, _payroll, Corp);

        Assert.Equal((TokenStatus.Valid, CredentialBinding.BoundToken), (outcome.Status, outcome.Binding));
    }

    [Fact]
    public void ABoundToken_WithoutItsCertificate_IsTokenInvalid_AndSaysItIsBoundElsewhere()
    {
        var token = User() with { ConfirmationThumbprint = TestCertificates.Thumbprint(_device) };

        var none = WorkloadCertificates.Resolve(token, null, Corp);
        var another = WorkloadCertificates.Resolve(token, _foreign, Corp);

        Assert.Equal((TokenStatus.Invalid, true), (none.Status, none.BoundToAnotherCertificate));
        Assert.Equal("token is bound to a client certificate (cnf x5t#S256) and the connection presented none", none.Detail);
        Assert.Equal((TokenStatus.Invalid, true), (another.Status, another.BoundToAnotherCertificate));
        Assert.Equal("token is bound to another client certificate (cnf x5t#S256 differs from the connection's)", another.Detail);
        Assert.Null(another.Principal);
    }

    [Theory]
    [InlineData(ClientCertificateRequirement.Optional, TokenStatus.Valid)]
    [InlineData(ClientCertificateRequirement.Required, TokenStatus.Valid)]
    [InlineData(ClientCertificateRequirement.None, TokenStatus.Missing)]
    public void OnlyAListenerThatAsksForClientCertificates_HasItsCertificatesLookedAt(ClientCertificateRequirement mode, TokenStatus expected)
    {
        var listener = new ListenerTls
        {
            Certificate = new PemFile("/etc/ztgw/certs/hr.pem", SourceLocation.None),
            Key = new PemFile("/etc/ztgw/certs/hr.key", SourceLocation.None),
            ClientCertificates = mode,
        };

        Assert.Equal(expected, WorkloadCertificates.Resolve(NoToken, _payroll, listener, Corp).Status);
        Assert.Equal(TokenStatus.Missing, WorkloadCertificates.Resolve(NoToken, _payroll, listener: null, Corp).Status);
    }

    [Fact]
    public void OnAListenerThatAsksForNone_ABoundTokenHasNoCertificateToMatch()
    {
        var listener = new ListenerTls
        {
            Certificate = new PemFile("/etc/ztgw/certs/hr.pem", SourceLocation.None),
            Key = new PemFile("/etc/ztgw/certs/hr.key", SourceLocation.None),
        };
        var token = User() with { ConfirmationThumbprint = TestCertificates.Thumbprint(_device) };

        var outcome = WorkloadCertificates.Resolve(token, _device, listener, Corp);

        Assert.Equal((TokenStatus.Invalid, true), (outcome.Status, outcome.BoundToAnotherCertificate));
    }

    private static TokenValidationOutcome Workload(string id) =>
        new(TokenStatus.Valid, new Principal { Kind = PrincipalKind.Workload, Subject = id, WorkloadId = id, Issuer = "https://idp.example" },
            "corp", "ok", DateTimeOffset.UtcNow.AddHours(1));

    private static TokenValidationOutcome User() =>
        new(TokenStatus.Valid, new Principal { Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.example" },
            "corp", "ok", DateTimeOffset.UtcNow.AddHours(1));
}
