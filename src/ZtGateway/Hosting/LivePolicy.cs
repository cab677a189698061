using ZtGateway.Audit;
using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Configuration;
using ZtGateway.Runtime;

namespace ZtGateway.Hosting;

/// <summary>Reads the live policy through the host's <see cref="GatewayStateHolder"/>.</summary>
internal sealed class LivePolicy(GatewayStateHolder state) : ILivePolicy
{
    public GatewayConfig Gateway => state.Current.Policy.Gateway;

    public AuditTrail Audit => state.Current.Audit;

    public string PolicyVersion => state.Current.Policy.Version;
}
