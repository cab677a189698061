using System.Net;

namespace ZtGateway.Policy.Configuration;

/// <summary>The <c>gateway:</c> section.</summary>
public sealed record GatewaySettings
{
    /// <summary>Absolute folder of the segment files. Written relative to gateway.yaml; defaults to <c>segments</c>.</summary>
    public string PolicyDir { get; init; } = "segments";

    /// <summary>Networks whose X-Forwarded-For is believed. Empty (the default): only the socket peer counts.</summary>
    public IReadOnlyList<IPNetwork> TrustedProxies { get; init; } = [];

    /// <summary>Absolute folder for revocation and quarantine state. Defaults to <c>state</c> beside gateway.yaml.</summary>
    public string StateDir { get; init; } = "state";

    /// <summary>The management listener.</summary>
    public ManagementSettings Management { get; init; } = new();

    /// <summary>The <c>gateway.limits</c> section: how many refusals one source may cause.</summary>
    public LimitsSettings Limits { get; init; } = new();

    /// <summary>The <c>gateway.sharedState</c> section; null (the default) when this process keeps its state alone.</summary>
    public SharedStateSettings? SharedState { get; init; }
}

/// <summary>
/// The <c>gateway.limits:</c> section. Only refused requests take from a source's allowance; a source that used it
/// up is answered 429 <c>rate-limited</c> before any of its credentials is verified, until the allowance refills.
/// </summary>
public sealed record LimitsSettings
{
    /// <summary>The built-in refill rate: 50 refusals per second.</summary>
    public static RefusalRate DefaultRefusalsPerSource { get; } = new(50, TimeSpan.FromSeconds(1));

    /// <summary>
    /// How fast a source's allowance refills, written <c>50/s</c> or <c>600/m</c>; null when written <c>off</c>
    /// (no limit). Defaults to <see cref="DefaultRefusalsPerSource"/>.
    /// </summary>
    public RefusalRate? RefusalsPerSource { get; init; } = DefaultRefusalsPerSource;

    /// <summary>Refusals a source may cause in a burst (the bucket size). Defaults to 100.</summary>
    public int RefusalBurst { get; init; } = 100;
}

/// <summary>A refill rate of <paramref name="Count"/> refusals every <paramref name="Period"/> (one second or one minute).</summary>
public sealed record RefusalRate(int Count, TimeSpan Period)
{
    /// <summary>As written in gateway.yaml: <c>50/s</c>, <c>600/m</c>.</summary>
    public override string ToString() =>
        Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + (Period == TimeSpan.FromMinutes(1) ? "/m" : "/s");
}
