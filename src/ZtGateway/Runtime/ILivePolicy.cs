using ZtGateway.Audit;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Runtime;

/// <summary>
/// What the long-lived parts (continuous evaluation, the signal receiver, the detector) read from the live policy:
/// they outlive every reload, the policy does not. The host implements it over the live state.
/// </summary>
internal interface ILivePolicy
{
    /// <summary>The live gateway.yaml.</summary>
    GatewayConfig Gateway { get; }

    /// <summary>The live audit sinks.</summary>
    AuditTrail Audit { get; }

    /// <summary>The live policy version.</summary>
    string PolicyVersion { get; }
}
