using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.JsonWebTokens;
using ZtGateway.DevTools;
using ZtGateway.Policy.Configuration;
using ZtGateway.Sources.Signals;

namespace ZtGateway.Tests.Dev;

public sealed class DevSignalsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ztgw-devsig-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("session-revoked", nameof(SignalAction.Revoke))]
    [InlineData("credential-change", nameof(SignalAction.Revoke))]
    [InlineData("assurance-level-change", nameof(SignalAction.StepUp))]
    [InlineData("device-compliance-change", nameof(SignalAction.QuarantineDevice))]
    public async Task MintedSignal_IsAcceptedByTheVerifier_AndSaysWhatWasAsked(string eventName, string action)
    {
        var jwks = Path.Combine(_directory, "signals.jwks.json");
        DevKeys.CreateEc(DevKeys.PrivateKeyPathFor(jwks), jwks, overwrite: false);
        var settings = new SignalsSettings { Transmitters = [new KeySourceConfig { Issuer = "https://signals.example", JwksFile = jwks, Audience = "ztgw" }] };
        using var verifier = new SecurityEventTokenVerifier(settings, TimeSpan.FromSeconds(60), TimeProvider.System, null, NullLogger.Instance);

        var set = DevSignals.Mint(new DevSignalRequest
        {
            Event = eventName,
            Subject = "alice",
            SubjectIssuer = "https://idp.example",
            Device = "laptop-7",
            Status = "not-compliant",
            Issuer = "https://signals.example",
            Audience = "ztgw",
        }, DevKeys.LoadSigningCredentials(DevKeys.PrivateKeyPathFor(jwks)), TimeProvider.System);
        var verified = await verifier.VerifyAsync(set, CancellationToken.None);

        Assert.True(verified.Succeeded, verified.Description);
        var signal = Assert.Single(CaepEventParser.Parse(new JsonWebToken(set), verified.IssuedAt).Events);
        Assert.Equal(Enum.Parse<SignalAction>(action), signal.Action);
        Assert.Equal(eventName == "device-compliance-change" ? null : "alice", signal.User?.Subject);
    }
}
