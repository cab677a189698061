using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Device;

namespace ZtGateway.Fuzz.Targets;

/// <summary>
/// A device-posture header value through <see cref="DevicePostureVerifier.VerifyAsync(string?, Principal?, CancellationToken)"/> for one posture issuer with a
/// static key set, on behalf of a fixed user. An input starting with <c>{</c> is a JOSE header and claims
/// (<see cref="FuzzInput.CompactToken"/>). Properties: it never throws, and the outcome is always absent or invalid,
/// never a verified device.
/// </summary>
internal sealed class PostureAssertionTarget : IFuzzTarget
{
    public const string Issuer = "https://posture.example";
    public const string Audience = "ztgw";

    private static readonly Principal Caller = new() { Kind = PrincipalKind.User, Subject = "alice@corp.example", Issuer = BearerTokenTarget.Issuer };

    private readonly ScratchFolder _folder = new("posture");
    private readonly DevicePostureVerifier _verifier;

    public PostureAssertionTarget()
    {
        var settings = new DeviceSettings
        {
            Audience = Audience,
            MaxAge = TimeSpan.FromMinutes(15),
            Issuers = [new KeySourceConfig { Issuer = Issuer, JwksFile = TrustedKeys.WriteJwks(_folder, "posture.jwks.json") }],
        };
        _verifier = new DevicePostureVerifier(settings, TimeSpan.FromSeconds(60), new FixedTimeProvider(FixedTimeProvider.Epoch), null, NullLogger.Instance);
    }

    public string Name => "posture";

    public void Run(ReadOnlySpan<byte> input)
    {
        var assertion = FuzzInput.CompactToken(input);
        var outcome = _verifier.VerifyAsync(assertion, Caller, CancellationToken.None).AsTask().GetAwaiter().GetResult();

        PropertyViolationException.Check(outcome is not null, "no outcome");
        PropertyViolationException.Check(
            outcome!.Status is DeviceStatus.Absent or DeviceStatus.Invalid,
            $"an assertion nobody could sign was answered {outcome.Status} ({outcome.Detail})");
        PropertyViolationException.Check(outcome.Device is null, "a refused assertion carried a device");
        PropertyViolationException.Check(!string.IsNullOrEmpty(outcome.Detail), "a refusal without a detail");
    }

    public void Dispose()
    {
        _verifier.Dispose();
        _folder.Dispose();
    }
}
