using Microsoft.IdentityModel.JsonWebTokens;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Identity;

public sealed class PrincipalMapperTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Rejects_TokenWithoutSub()
    {
        var principal = PrincipalMapper.Map(Token(TestTokens.Claims("https://idp.example", "ztgw", Now, subject: null)), out var failure);

        Assert.Null(principal);
        Assert.Equal("token has no sub", failure);
    }

    [Fact]
    public void Falls_BackToSub_ForAppTokenWithoutClientClaims()
    {
        var claims = TestTokens.Claims("https://idp.example", "ztgw", Now, subject: "sp-object-id");
        claims["idtyp"] = "app";

        var principal = PrincipalMapper.Map(Token(claims), out _);

        Assert.Equal(PrincipalKind.Workload, principal!.Kind);
        Assert.Equal("sp-object-id", principal.WorkloadId);
    }

    [Fact]
    public void Prefers_SpiffeSub_OverAzp()
    {
        var claims = TestTokens.Claims("https://idp.example", "ztgw", Now, subject: "spiffe://corp.example/hr/payroll-engine");
        claims["azp"] = "payroll-client";

        var principal = PrincipalMapper.Map(Token(claims), out _);

        Assert.Equal("spiffe://corp.example/hr/payroll-engine", principal!.WorkloadId);
    }

    [Fact]
    public void Leaves_OptionalClaims_Empty_WhenAbsent()
    {
        var claims = TestTokens.Claims("https://idp.example", "ztgw", Now);
        claims.Remove("iat");

        var principal = PrincipalMapper.Map(Token(claims), out _);

        Assert.Equal(PrincipalKind.User, principal!.Kind);
        Assert.Empty(principal.Groups);
        Assert.Empty(principal.Roles);
        Assert.Empty(principal.Amr);
        Assert.Null(principal.Acr);
        Assert.Null(principal.AuthTime);
        Assert.Null(principal.IssuedAt);
        Assert.Null(principal.SessionId);
    }

    [Theory]
    [InlineData("not-a-number")]
    [InlineData(-5)]
    public void Ignores_UnusableAuthTime(object authTime)
    {
        var claims = TestTokens.Claims("https://idp.example", "ztgw", Now);
        claims["auth_time"] = authTime;

        var principal = PrincipalMapper.Map(Token(claims), out _);

        Assert.Null(principal!.AuthTime);
    }

    [Fact]
    public void Reads_AuthTime_AsUnixSeconds()
    {
        var claims = TestTokens.Claims("https://idp.example", "ztgw", Now);
        claims["auth_time"] = 1_772_355_600L;

        var principal = PrincipalMapper.Map(Token(claims), out _);

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_772_355_600L), principal!.AuthTime);
    }

    private static JsonWebToken Token(IDictionary<string, object?> claims) => new(TestTokens.Unsigned(claims));
}
