using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.DevTools;
using ZtGateway.Enforcement.Assertion;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Assertion;

public sealed class AssertionIssuerTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
    private readonly string _dir = Directory.CreateTempSubdirectory("ztgw-assertion-").FullName;
    private readonly AssertionIssuer _issuer;

    private readonly Principal _alice = new() { Kind = PrincipalKind.User, Subject = "alice", Amr = ["pwd", "mfa"] };
    private readonly DevicePosture _laptop = new() { DeviceId = "laptop-7", Segment = "finance", Compliant = true, Managed = true };
    private readonly Decision _payroll = new()
    {
        Allowed = true, Reason = ReasonCode.Allowed, DestinationSegment = "hr", SourceSegment = "finance",
        RouteId = "payroll-read", Service = "payroll", RuleName = "finance-to-payroll",
    };

    public AssertionIssuerTests()
    {
        var settings = new AssertionSettings { SigningKeyFile = Path.Combine(_dir, "signing.pem"), Lifetime = TimeSpan.FromSeconds(60) };
        DevKeys.CreateSigningKey(settings.SigningKeyFile, overwrite: false);
        _issuer = AssertionIssuer.Load(settings, _time);
    }

    [Fact]
    public void ReuseWindow_IsATenthOfTheLifetime_AtMostFiveSeconds()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), _issuer.ReuseWindow);

        var shortLived = new AssertionSettings { SigningKeyFile = Path.Combine(_dir, "short.pem"), Lifetime = TimeSpan.FromSeconds(20) };
        DevKeys.CreateSigningKey(shortLived.SigningKeyFile, overwrite: false);
        using var issuer = AssertionIssuer.Load(shortLived, _time);
        Assert.Equal(TimeSpan.FromSeconds(2), issuer.ReuseWindow);
    }

    [Fact]
    public void SameTokenDeviceAndDecision_WithinTheWindow_GetTheSameAssertion()
    {
        var first = _issuer.Issue(_payroll, _alice, _laptop, "d-1");
        _time.Advance(TimeSpan.FromSeconds(4.9));
        var second = _issuer.Issue(_payroll, _alice, _laptop, "d-2");

        Assert.Same(first, second);
        Assert.Equal("d-1", Claims(second).GetProperty("decision_id").GetString());
    }

    [Fact]
    public void PastTheWindow_ANewAssertionIsSigned()
    {
        var first = _issuer.Issue(_payroll, _alice, _laptop, "d-1");
        _time.Advance(TimeSpan.FromSeconds(5));
        var second = _issuer.Issue(_payroll, _alice, _laptop, "d-2");

        Assert.NotEqual(first, second);
        var claims = Claims(second);
        Assert.Equal("d-2", claims.GetProperty("decision_id").GetString());
        Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds(), claims.GetProperty("iat").GetInt64());
        Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds() + 60, claims.GetProperty("exp").GetInt64());
    }

    [Fact]
    public void AnotherTokenDeviceOrDecision_IsNeverServedTheCachedAssertion()
    {
        var first = _issuer.Issue(_payroll, _alice, _laptop, "d-1");

        // Equal values are not enough: only the same verified objects share an assertion.
        var aliceAgain = _alice with { };
        var otherDevice = _laptop with { DeviceId = "laptop-8" };
        var otherRoute = _payroll with { RouteId = "payroll-write", RuleName = "finance-writes" };
        var bob = new Principal { Kind = PrincipalKind.User, Subject = "bob" };

        var variants = new[]
        {
            _issuer.Issue(_payroll, aliceAgain, _laptop, "d-2"),
            _issuer.Issue(_payroll, _alice, otherDevice, "d-3"),
            _issuer.Issue(_payroll, _alice, null, "d-4"),
            _issuer.Issue(otherRoute, _alice, _laptop, "d-5"),
            _issuer.Issue(_payroll, bob, _laptop, "d-6"),
        };

        Assert.All(variants, v => Assert.NotEqual(first, v));
        Assert.Equal("laptop-8", Claims(variants[1]).GetProperty("device_id").GetString());
        Assert.False(Claims(variants[2]).TryGetProperty("device_id", out _));
        Assert.Equal("payroll-write", Claims(variants[3]).GetProperty("route").GetString());
        Assert.Equal("bob", Claims(variants[4]).GetProperty("sub").GetString());
    }

    [Fact]
    public void HeldAssertions_AreBounded()
    {
        for (var i = 0; i < AssertionIssuer.MaxReusable + 10; i++)
        {
            _issuer.Issue(_payroll, new Principal { Kind = PrincipalKind.User, Subject = "u" + i }, null, "d");
        }

        Assert.InRange(_issuer.ReusableCount, 1, AssertionIssuer.MaxReusable);
    }

    [Fact]
    public void AssertionsPastTheirWindow_AreDropped_WithinSweepEverySignatures()
    {
        for (var i = 0; i < 100; i++)
        {
            _issuer.Issue(_payroll, new Principal { Kind = PrincipalKind.User, Subject = "old" + i }, null, "d");
        }

        Assert.InRange(_issuer.ReusableCount, 100, AssertionIssuer.SweepEvery);
        _time.Advance(_issuer.ReuseWindow);

        for (var i = 0; i < AssertionIssuer.SweepEvery; i++)
        {
            _issuer.Issue(_payroll, new Principal { Kind = PrincipalKind.User, Subject = "new" + i }, null, "d");
        }

        // A sweep ran on the way (after 1,024 signatures in all): the 100 "old" entries past their window are
        // gone, every "new" one is still held.
        Assert.Equal(AssertionIssuer.SweepEvery, _issuer.ReusableCount);
    }

    [Fact]
    public void AFullSetOfLiveAssertions_IsEmptied_AndReuseGoesOn()
    {
        var principals = Enumerable.Range(0, AssertionIssuer.MaxReusable + 1)
            .Select(i => new Principal { Kind = PrincipalKind.User, Subject = "u" + i }).ToList();
        foreach (var principal in principals)
        {
            _issuer.Issue(_payroll, principal, null, "d");
        }

        Assert.InRange(_issuer.ReusableCount, 1, AssertionIssuer.MaxReusable);
        var last = _issuer.Issue(_payroll, principals[^1], null, "d2");
        Assert.Equal(last, _issuer.Issue(_payroll, principals[^1], null, "d3"));
    }

    private static JsonElement Claims(string jws) =>
        JsonDocument.Parse(Base64UrlEncoder.Decode(jws.Split('.')[1])).RootElement;

    public void Dispose()
    {
        _issuer.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
