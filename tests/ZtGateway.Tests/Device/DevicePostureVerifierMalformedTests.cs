using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Device;
using ZtGateway.Tests.Identity;

namespace ZtGateway.Tests.Device;

/// <summary>
/// A posture header that is not a JWT is an invalid device assertion, never an exception (which the enforcement
/// middleware could only answer with its last-resort 503). Found by fuzz/ target posture: a part that is not
/// base64url made the token reader throw <see cref="FormatException"/>, which the verifier did not catch.
/// </summary>
public sealed class DevicePostureVerifierMalformedTests : IDisposable
{
    private const string Issuer = "https://posture.example";

    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-posture-").FullName;
    private readonly TestKey _key = TestKey.Ec();
    private readonly DevicePostureVerifier _verifier;

    public DevicePostureVerifierMalformedTests()
    {
        var jwks = Path.Join(_directory, "posture.jwks.json");
        File.WriteAllText(jwks, TestKey.JwksJson(_key));
        _verifier = new DevicePostureVerifier(
            new DeviceSettings { Issuers = [new KeySourceConfig { Issuer = Issuer, JwksFile = jwks }] },
            TimeSpan.FromSeconds(60),
            new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero)),
            null,
            NullLogger.Instance);
    }

    public void Dispose()
    {
        _verifier.Dispose();
        _key.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData("eyJhbGciOiJFUzI1NiIsImtpZCI6ImZ1ZWMiLCJ0eXAiOiJKV1QifQ.e<n0.bm.nIn0.JMFT")]
    [InlineData("eyJhbGciOiJFUzI1NiJ9.a.b.c!.d")]
    [InlineData("e<n0.e30.c2ln.c2ln.c2ln")]
    [InlineData("not a jwt")]
    [InlineData("a.b")]
    public async Task Refuses_AMalformedAssertion_AsInvalid(string assertion)
    {
        var outcome = await _verifier.VerifyAsync(assertion, new Principal { Kind = PrincipalKind.User, Subject = "alice" }, CancellationToken.None);

        Assert.Equal(DeviceStatus.Invalid, outcome.Status);
        Assert.Null(outcome.Device);
        Assert.StartsWith("malformed device assertion", outcome.Detail, StringComparison.Ordinal);
    }
}
