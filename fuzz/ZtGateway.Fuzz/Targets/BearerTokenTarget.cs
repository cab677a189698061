using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Fuzz.Targets;

/// <summary>
/// An <c>Authorization</c> header value through the gateway's token validator (the caching validator over
/// <see cref="TokenValidator"/>, as a gateway state builds it) for one <c>type: jwks</c> issuer with a static key set.
/// An input starting with <c>{</c> is a JOSE header and claims (<see cref="FuzzInput.CompactToken"/>), sent as
/// <c>Bearer</c>. Properties: <see cref="ITokenValidator.ValidateAsync(string?, CancellationToken)"/> never throws, and its outcome is always a
/// refusal (missing or invalid; never valid, and never expired, which would mean a verified signature), without a principal.
/// </summary>
internal sealed class BearerTokenTarget : IFuzzTarget
{
    public const string Issuer = "https://idp.example";
    public const string Audience = "ztgw";

    private readonly ScratchFolder _folder = new("token");
    private readonly CachingTokenValidator _validator;

    public BearerTokenTarget()
    {
        var settings = new IdentitySettings
        {
            Issuers =
            [
                new IssuerConfig
                {
                    Name = "offline",
                    Type = IssuerType.Jwks,
                    Issuer = Issuer,
                    JwksFile = TrustedKeys.WriteJwks(_folder, "idp.jwks.json"),
                    Audiences = [Audience],
                },
            ],
        };
        var time = new FixedTimeProvider(FixedTimeProvider.Epoch);
        _validator = new CachingTokenValidator(new TokenValidator(settings, time, logger: NullLogger.Instance), time);
    }

    public string Name => "token";

    public void Run(ReadOnlySpan<byte> input)
    {
        var header = input.IsEmpty || input[0] != (byte)'{' ? FuzzInput.Text(input) : "Bearer " + FuzzInput.CompactToken(input);
        var outcome = _validator.ValidateAsync(header, CancellationToken.None).AsTask().GetAwaiter().GetResult();

        PropertyViolationException.Check(outcome is not null, "no outcome");
        PropertyViolationException.Check(
            outcome!.Status is TokenStatus.Missing or TokenStatus.Invalid,
            $"a token nobody could sign was answered {outcome.Status} ({outcome.Detail})");
        PropertyViolationException.Check(outcome.Principal is null, "a refused token carried a principal");
        PropertyViolationException.Check(!string.IsNullOrEmpty(outcome.Detail), "a refusal without a detail");
    }

    public void Dispose()
    {
        _validator.Dispose();
        _folder.Dispose();
    }
}
