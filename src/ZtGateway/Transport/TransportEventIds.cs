namespace ZtGateway.Transport;

/// <summary>Event ids of transport log messages, kept in one range so operators can filter on them.</summary>
internal static class TransportEventIds
{
    /// <summary>Changed TLS files were loaded and serve from now on.</summary>
    public const int MaterialReloaded = 1300;

    /// <summary>Changed TLS files could not be used; what served before keeps serving.</summary>
    public const int MaterialRefused = 1301;

    /// <summary>A listener refused a client certificate during the handshake.</summary>
    public const int ClientCertificateRefused = 1302;

    /// <summary>An upstream's certificate did not verify; nothing is sent to it.</summary>
    public const int UpstreamCertificateRefused = 1303;
}
