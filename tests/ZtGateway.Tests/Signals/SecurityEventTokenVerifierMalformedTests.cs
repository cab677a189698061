using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Policy.Configuration;
using ZtGateway.Sources.Signals;

namespace ZtGateway.Tests.Signals;

/// <summary>
/// A body that is not a JWT is refused as <c>invalid_request</c>, never an exception (the receiver would answer 500).
/// Found by fuzz/ target set: a part that is not base64url made the token reader throw <see cref="FormatException"/>.
/// </summary>
public sealed class SecurityEventTokenVerifierMalformedTests : IDisposable
{
    private readonly SetMinter _minter = new();
    private readonly SecurityEventTokenVerifier _verifier;

    public SecurityEventTokenVerifierMalformedTests()
    {
        var settings = new SignalsSettings
        {
            Transmitters = [new KeySourceConfig { Issuer = SetMinter.Issuer, JwksFile = _minter.JwksFile, Audience = SetMinter.Audience }],
        };
        _verifier = new SecurityEventTokenVerifier(settings, TimeSpan.FromSeconds(60),
            new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000)), null, NullLogger.Instance);
    }

    public void Dispose()
    {
        _verifier.Dispose();
        _minter.Dispose();
    }

    [Theory]
    [InlineData("eyJhbGciOiJuIiwidHlwIjoic2JjZXZlbnQrand0In0.eyJpc3MiOiJodHRwZSIsImF1ZCI6Inp0Z3ciLCJpYXQiOjE3NzIzNTU2MFA`Imp0aSI6.a.b.c")]
    [InlineData("eyJhbGciOiJFUzI1NiJ9.a.b.c!.d")]
    [InlineData("e<n0.e30.c2ln.c2ln.c2ln")]
    [InlineData("not a jwt")]
    public async Task Refuses_ABodyThatIsNotACompactJwt(string body)
    {
        var result = await _verifier.VerifyAsync(body, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(SetErrors.InvalidRequest, result.Error);
        Assert.Equal("the body is not a JWT in compact serialization", result.Description);
    }
}
