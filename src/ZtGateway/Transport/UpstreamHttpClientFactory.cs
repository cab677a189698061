using Yarp.ReverseProxy.Forwarder;

namespace ZtGateway.Transport;

/// <summary>
/// YARP's client factory with the TLS of each service: every cluster's handler asks <see cref="UpstreamTlsRegistry"/>,
/// by cluster id and at every handshake, whether the destination is trusted and which client certificate to present.
/// </summary>
internal sealed class UpstreamHttpClientFactory : ForwarderHttpClientFactory
{
    // A pooled connection keeps the trust it was opened with; renewing them bounds how long that outlives a rotation.
    internal static readonly TimeSpan PooledConnectionLifetime = TimeSpan.FromMinutes(5);

    private readonly UpstreamTlsRegistry _registry;

    public UpstreamHttpClientFactory(UpstreamTlsRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
    }

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        var clusterId = context.ClusterId;
        handler.PooledConnectionLifetime = PooledConnectionLifetime;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => _registry.Validate(clusterId, certificate, chain, errors);
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => _registry.ClientCertificate(clusterId)!;
    }
}
