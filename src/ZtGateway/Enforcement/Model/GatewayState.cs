using ZtGateway.Audit;
using ZtGateway.Enforcement.Assertion;
using ZtGateway.Enforcement.Refusals;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Device;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Enforcement.Model;

/// <summary>
/// Everything a request is decided with, built together from one valid policy and swapped in as a whole,
/// so a request never sees half of a reload.
/// </summary>
internal sealed class GatewayState : IDisposable
{
    public GatewayState(PolicyEngine engine, ITokenValidator tokens, DevicePostureVerifier posture, AssertionIssuer assertions, AuditTrail audit,
        RefusalLimiter refusals)
    {
        Refusals = refusals;
        Engine = engine;
        Tokens = tokens;
        Posture = posture;
        Assertions = assertions;
        Audit = audit;
    }

    public PolicyEngine Engine { get; }

    public ITokenValidator Tokens { get; }

    public DevicePostureVerifier Posture { get; }

    public AssertionIssuer Assertions { get; }

    public AuditTrail Audit { get; }

    /// <summary>The per-source refusal limit; it writes its aggregated lines to <see cref="Audit"/>.</summary>
    public RefusalLimiter Refusals { get; }

    public PolicySet Policy => Engine.Policy;

    public void Dispose()
    {
        (Tokens as IDisposable)?.Dispose();
        Posture.Dispose();
        Refusals.Dispose(); // its last windows go to the audit sinks, so before they close
        Audit.Dispose();
    }
}

/// <summary>Holds the live <see cref="GatewayState"/>; readers take a reference once per request.</summary>
internal sealed class GatewayStateHolder
{
    private volatile GatewayState _current;

    public GatewayStateHolder(GatewayState initial) => _current = initial;

    public GatewayState Current => _current;

    public GatewayState Swap(GatewayState next) => Interlocked.Exchange(ref _current, next);
}
