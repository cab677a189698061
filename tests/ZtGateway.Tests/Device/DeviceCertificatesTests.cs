using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Continuous;
using ZtGateway.Sources.Device;
using ZtGateway.Tests.Identity;

namespace ZtGateway.Tests.Device;

/// <summary>
/// What a device certificate names, and the posture the gateway takes for it: the posture header's when it names the same
/// device, else the pushed assertion, verified by the real posture verifier with real signatures.
/// </summary>
public sealed class DeviceCertificatesTests : IDisposable
{
    private const string Issuer = "https://posture.example";
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-device-certs-").FullName;
    private readonly TestKey _key = TestKey.Ec();
    private readonly FakeTimeProvider _time = new(Start);
    private readonly DevicePostureVerifier _verifier;
    private readonly PushedPostureStore _pushed = new();
    private readonly Principal _alice = new() { Kind = PrincipalKind.User, Subject = "alice", Issuer = "https://idp.example" };

    public DeviceCertificatesTests()
    {
        var jwks = Path.Join(_directory, "posture.jwks.json");
        File.WriteAllText(jwks, TestKey.JwksJson(_key));
        _verifier = new DevicePostureVerifier(new DeviceSettings { Issuers = [new KeySourceConfig { Issuer = Issuer, JwksFile = jwks }] },
            TimeSpan.FromSeconds(60), _time, null, NullLogger.Instance);
    }

    public void Dispose()
    {
        _verifier.Dispose();
        _key.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData(DeviceIdSource.Uri, "urn:device:laptop-7")]
    [InlineData(DeviceIdSource.Dns, "laptop-7.devices.example")]
    [InlineData(DeviceIdSource.Cn, "laptop 7")]
    public void Name_IsTakenFromTheConfiguredPart(DeviceIdSource from, string expected)
    {
        using var certificate = Certificate("CN=laptop 7, O=Example", san =>
        {
            san.AddUri(new Uri("urn:device:laptop-7"));
            san.AddUri(new Uri("urn:device:second"));
            san.AddDnsName("laptop-7.devices.example");
        });

        Assert.Equal((expected, (string?)null), DeviceCertificates.Name(certificate, from));
    }

    [Theory]
    [InlineData(DeviceIdSource.Uri, "URI subject alternative name")]
    [InlineData(DeviceIdSource.Dns, "DNS subject alternative name")]
    [InlineData(DeviceIdSource.Cn, "subject common name")]
    public void ACertificateWithoutThatPart_NamesNoDevice_AndSaysWhy(DeviceIdSource from, string missing)
    {
        using var certificate = Certificate(from == DeviceIdSource.Cn ? "O=Example" : "CN=x", san => san.AddIpAddress(System.Net.IPAddress.Loopback));

        var (id, problem) = DeviceCertificates.Name(certificate, from);

        Assert.Null(id);
        Assert.Contains(missing, problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAHeader_ThePushedPostureCounts_UntilItsExpiry()
    {
        Assert.Equal(DeviceStatus.Absent, (await PostureAsync("laptop-7", PostureOutcome.Absent)).Status);

        await PushAsync(Posture("laptop-7", compliant: true, lifetime: TimeSpan.FromMinutes(5)));
        var pushed = await PostureAsync("laptop-7", PostureOutcome.Absent);
        Assert.Equal((DeviceStatus.Verified, "laptop-7", true), (pushed.Status, pushed.Device!.DeviceId, pushed.Device.Compliant));

        _time.Advance(TimeSpan.FromMinutes(6));
        var expired = await PostureAsync("laptop-7", PostureOutcome.Absent);
        Assert.Equal(DeviceStatus.Absent, expired.Status);
        Assert.Contains("laptop-7", expired.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHeaderNamingAnotherDevice_IsInvalid_AndOneNamingTheSameDevice_IsTaken()
    {
        await PushAsync(Posture("laptop-7", compliant: false));

        var other = await _verifier.VerifyAsync(Posture("desktop-2", compliant: true), _alice, CancellationToken.None);
        var same = await _verifier.VerifyAsync(Posture("laptop-7", compliant: true), _alice, CancellationToken.None);

        var mismatch = await PostureAsync("laptop-7", other);
        Assert.Equal(DeviceStatus.Invalid, mismatch.Status);
        Assert.Contains("desktop-2", mismatch.Detail, StringComparison.Ordinal);
        var taken = await PostureAsync("laptop-7", same);
        Assert.True(taken.Device!.Compliant);
    }

    [Fact]
    public async Task APushedRecordFiledUnderAnotherDevice_OrForged_IsInvalid()
    {
        // What a writer to the shared store could plant: a real assertion of one device filed under another, and a forgery.
        using var forger = TestKey.Ec();
        _pushed.Apply(PushedPostureStore.Record("laptop-7", new PushedPosture(Posture("desktop-2", compliant: true), Start, Start.AddMinutes(10)), Start));
        _pushed.Apply(PushedPostureStore.Record("laptop-8", new PushedPosture(Posture("laptop-8", compliant: true, key: forger), Start, Start.AddMinutes(10)), Start));

        Assert.Equal(DeviceStatus.Invalid, (await PostureAsync("laptop-7", PostureOutcome.Absent)).Status);
        Assert.Equal(DeviceStatus.Invalid, (await PostureAsync("laptop-8", PostureOutcome.Absent)).Status);
    }

    [Fact]
    public async Task APushedPostureBoundToAUser_IsAccepted_AndHoldsForThatUserOnly()
    {
        var (outcome, issuedAt) = await _verifier.VerifyPushedAsync(Posture("laptop-7", compliant: true, user: "alice"), CancellationToken.None);
        Assert.Equal((DeviceStatus.Verified, Start), (outcome.Status, issuedAt));
        await PushAsync(Posture("laptop-7", compliant: true, user: "alice"));

        Assert.Equal(DeviceStatus.Verified, (await PostureAsync("laptop-7", PostureOutcome.Absent)).Status);
        var bob = new Principal { Kind = PrincipalKind.User, Subject = "bob", Issuer = "https://idp.example" };
        Assert.Equal(DeviceStatus.Invalid, (await DeviceCertificates.PostureAsync("laptop-7", PostureOutcome.Absent, _pushed, _verifier, bob, null,
            _time.GetUtcNow(), CancellationToken.None)).Status);
    }

    [Fact]
    public void TheStore_KeepsTheLatestByIat_AndLiveRecordsRebuildIt()
    {
        var early = new PushedPosture("a", Start, Start.AddMinutes(10));
        var late = new PushedPosture("b", Start.AddMinutes(1), Start.AddMinutes(3));
        _pushed.Apply(PushedPostureStore.Record("laptop-7", late, Start));
        _pushed.Apply(PushedPostureStore.Record("laptop-7", early, Start));

        Assert.Equal("b", _pushed.Latest("laptop-7", Start)!.Assertion);
        var live = Assert.Single(_pushed.Live(Start));
        Assert.Null(JournalRecordCheck.Problem(live));
        Assert.Equal(StateJournal.Format(live), StateJournal.Format(PushedPostureStore.Record("laptop-7", late, Start)));
        Assert.Empty(_pushed.Live(Start.AddMinutes(3)));
        Assert.Null(_pushed.Latest("laptop-7", Start.AddMinutes(3)));
        Assert.NotNull(JournalRecordCheck.Problem(live with { Assertion = null }));
        Assert.NotNull(JournalRecordCheck.Problem(live with { Target = QuarantineTargets.Principal }));
    }

    private ValueTask<PostureOutcome> PostureAsync(string device, PostureOutcome header) =>
        DeviceCertificates.PostureAsync(device, header, _pushed, _verifier, _alice, null, _time.GetUtcNow(), CancellationToken.None);

    private async Task PushAsync(string assertion)
    {
        var (outcome, issuedAt) = await _verifier.VerifyPushedAsync(assertion, CancellationToken.None);
        Assert.Equal(DeviceStatus.Verified, outcome.Status);
        _pushed.Apply(PushedPostureStore.Record(outcome.Device!.DeviceId, new PushedPosture(assertion, issuedAt, outcome.Expires!.Value), _time.GetUtcNow()));
    }

    private string Posture(string device, bool compliant, TimeSpan? lifetime = null, string? user = null, TestKey? key = null)
    {
        var now = _time.GetUtcNow();
        var claims = new Dictionary<string, object>
        {
            ["sub"] = device, ["segment"] = "finance", ["compliant"] = compliant, ["managed"] = true, ["risk"] = "low",
        };
        if (user is not null)
        {
            claims["user"] = user;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = "ztgw",
            IssuedAt = now.UtcDateTime,
            Expires = (now + (lifetime ?? TimeSpan.FromMinutes(10))).UtcDateTime,
            Claims = claims,
            SigningCredentials = (key ?? _key).CredentialsWithKid(_key.Kid),
        });
    }

    private static X509Certificate2 Certificate(string subject, Action<SubjectAlternativeNameBuilder> names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        names(san);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(Start.AddDays(-1), Start.AddDays(1));
    }
}
