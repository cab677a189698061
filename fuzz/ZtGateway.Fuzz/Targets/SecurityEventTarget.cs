using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.JsonWebTokens;
using ZtGateway.Policy.Configuration;
using ZtGateway.Sources.Signals;

namespace ZtGateway.Fuzz.Targets;

/// <summary>
/// A CAEP Security Event Token body through <see cref="SecurityEventTokenVerifier.VerifyAsync"/> (one transmitter with a
/// static key set), then, on the same token read without verification, <see cref="CaepEventParser.Parse"/>, the reader
/// the receiver runs after a SET verified. An input starting with <c>{</c> is a JOSE header and claims
/// (<see cref="FuzzInput.CompactToken"/>). Properties: neither throws; verification always refuses with one of the
/// <see cref="SetErrors"/> codes and a description; the parser returns events or a problem, never both or neither, and
/// each event carries what its action needs (a user to revoke or step up, a device to quarantine or release).
/// </summary>
internal sealed class SecurityEventTarget : IFuzzTarget
{
    public const string Issuer = "https://signals.example";
    public const string Audience = "ztgw";

    private static readonly string[] ErrorCodes = [SetErrors.InvalidRequest, SetErrors.InvalidKey, SetErrors.InvalidIssuer, SetErrors.InvalidAudience];

    private readonly ScratchFolder _folder = new("set");
    private readonly SecurityEventTokenVerifier _verifier;

    public SecurityEventTarget()
    {
        var settings = new SignalsSettings
        {
            Transmitters = [new KeySourceConfig { Issuer = Issuer, Audience = Audience, JwksFile = TrustedKeys.WriteJwks(_folder, "signals.jwks.json") }],
        };
        _verifier = new SecurityEventTokenVerifier(settings, TimeSpan.FromSeconds(60), new FixedTimeProvider(FixedTimeProvider.Epoch), null, NullLogger.Instance);
    }

    public string Name => "set";

    public void Run(ReadOnlySpan<byte> input)
    {
        // The receiver trims the body before it verifies it (SignalReceiver.ProcessAsync).
        var set = FuzzInput.CompactToken(input).Trim();
        var verification = _verifier.VerifyAsync(set, CancellationToken.None).AsTask().GetAwaiter().GetResult();

        PropertyViolationException.Check(!verification.Succeeded, "a SET nobody could sign verified");
        PropertyViolationException.Check(ErrorCodes.Contains(verification.Error), $"a refusal with the error code '{verification.Error}'");
        PropertyViolationException.Check(!string.IsNullOrEmpty(verification.Description), "a refusal without a description");
        PropertyViolationException.Check(verification.Token is null && verification.Transmitter is null, "a refusal carried a token");

        if (Unverified(set) is { } token)
        {
            CheckEvents(token);
        }
    }

    public void Dispose()
    {
        _verifier.Dispose();
        _folder.Dispose();
    }

    private static void CheckEvents(JsonWebToken token)
    {
        var (events, problem) = CaepEventParser.Parse(token, FixedTimeProvider.Epoch);
        PropertyViolationException.Check(events is not null, "the parser returned no event list");
        PropertyViolationException.Check(
            problem is null ? events!.Count > 0 : events!.Count == 0,
            $"the parser returned {events!.Count} event(s) and the problem '{problem}'");
        foreach (var signal in events)
        {
            PropertyViolationException.Check(!string.IsNullOrEmpty(signal.EventType), "an event without a type");
            var complete = signal.Action switch
            {
                SignalAction.Revoke or SignalAction.StepUp => signal.User is { Issuer.Length: > 0, Subject.Length: > 0 } && signal.Device is null,
                SignalAction.QuarantineDevice or SignalAction.ReleaseDevice => !string.IsNullOrEmpty(signal.Device) && signal.User is null,
                SignalAction.None => true,
                _ => false,
            };
            PropertyViolationException.Check(complete, $"the event {signal.EventType} asks {signal.Action} without its subject");
        }
    }

    // The harness's own reading, so that the parser sees tokens whose signature could never verify. What the
    // library's constructor refuses is no finding of the gateway's: the verifier above already had to refuse it.
    private static JsonWebToken? Unverified(string set)
    {
        try
        {
            return new JsonWebToken(set);
        }
        catch (Exception ex) when (ex is ArgumentException or Microsoft.IdentityModel.Tokens.SecurityTokenException or FormatException or System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
