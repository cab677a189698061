using ZtGateway.Audit;
using ZtGateway.Hosting;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Continuous;

/// <summary>What continuous evaluation reads from the live policy; it outlives every reload, the policy does not.</summary>
internal interface IContinuousContext
{
    /// <summary>The live gateway.yaml.</summary>
    GatewayConfig Gateway { get; }

    /// <summary>The live audit sinks.</summary>
    AuditTrail Audit { get; }

    /// <summary>The live policy version.</summary>
    string PolicyVersion { get; }
}

/// <summary>Reads the live policy through the host's <see cref="GatewayStateHolder"/>.</summary>
internal sealed class LiveContinuousContext(GatewayStateHolder state) : IContinuousContext
{
    public GatewayConfig Gateway => state.Current.Policy.Gateway;

    public AuditTrail Audit => state.Current.Audit;

    public string PolicyVersion => state.Current.Policy.Version;
}
