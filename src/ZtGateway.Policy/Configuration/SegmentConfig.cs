using System.Net;

namespace ZtGateway.Policy.Configuration;

/// <summary>One segment file, <c>segments/&lt;segment&gt;.yaml</c>: its listener, members and route table (docs/design.md section 2.2).</summary>
public sealed record SegmentConfig
{
    /// <summary>Segment name, unique in the deployment. Required.</summary>
    public required string Name { get; init; }

    /// <summary>Free text.</summary>
    public string? Description { get; init; }

    /// <summary>URL of this segment's own listener. Required.</summary>
    public required string Listen { get; init; }

    /// <summary>
    /// HTTP versions the listener serves. Defaults to <see cref="ListenerProtocols.Http1AndHttp2"/> on an https listener;
    /// the loader makes it <see cref="ListenerProtocols.Http1"/> on an http one unless <c>protocols</c> says otherwise.
    /// </summary>
    public ListenerProtocols Protocols { get; init; } = ListenerProtocols.Http1AndHttp2;

    /// <summary>The listener's certificate and client-certificate verification; set exactly when <see cref="Listen"/> is https.</summary>
    public ListenerTls? Tls { get; init; }

    /// <summary>
    /// <c>signIn: true</c>: the listener signs people in with a browser (gateway.yaml's <c>signIn:</c>). Defaults to false:
    /// every caller brings its own bearer token.
    /// </summary>
    public bool SignIn { get; init; }

    /// <summary>How callers are placed in this segment.</summary>
    public SegmentMembers Members { get; init; } = new();

    /// <summary>Requirements every user rule of this file inherits unless it overrides them.</summary>
    public RuleDefaults Defaults { get; init; } = new();

    /// <summary>Upstream services by name.</summary>
    public IReadOnlyDictionary<string, ServiceConfig> Services { get; init; } = new Dictionary<string, ServiceConfig>();

    /// <summary>The route table, in file order.</summary>
    public IReadOnlyList<PolicyRoute> Routes { get; init; } = [];

    /// <summary>Absolute path of the file.</summary>
    public required string FilePath { get; init; }

    /// <summary>Where the <c>segment:</c> key was written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}

/// <summary>The <c>members:</c> section of a segment.</summary>
public sealed record SegmentMembers
{
    /// <summary>Workload ids (SPIFFE ids or client ids) that belong to this segment.</summary>
    public IReadOnlyList<string> Workloads { get; init; } = [];

    /// <summary>Networks that belong to this segment.</summary>
    public IReadOnlyList<IPNetwork> Networks { get; init; } = [];
}

/// <summary>Whether multi-factor authentication is required.</summary>
public enum MfaRequirement
{
    /// <summary>The token's <c>amr</c> must hold a configured multi-factor method (the default).</summary>
    Required,

    /// <summary>Any authentication will do.</summary>
    Optional,
}

/// <summary>Device risk levels reported by posture issuers, ordered from best to worst.</summary>
public enum RiskLevel
{
    /// <summary>low</summary>
    Low,

    /// <summary>medium</summary>
    Medium,

    /// <summary>high</summary>
    High,
}

/// <summary>
/// A rule's device requirement. Written either as a word (<c>compliant</c>, <c>managed</c>, <c>any</c>)
/// or as a mapping <c>{ compliant: true, managed: true, maxRisk: low }</c>.
/// </summary>
public sealed record DeviceRequirement
{
    /// <summary>A verified device assertion must be presented.</summary>
    public bool Required { get; init; } = true;

    /// <summary>The device must report <c>compliant: true</c>.</summary>
    public bool Compliant { get; init; }

    /// <summary>The device must report <c>managed: true</c>.</summary>
    public bool Managed { get; init; }

    /// <summary>Highest acceptable risk; null accepts any.</summary>
    public RiskLevel? MaxRisk { get; init; }

    /// <summary><c>compliant</c>: a verified, compliant device (the built-in default).</summary>
    public static DeviceRequirement CompliantDevice { get; } = new() { Compliant = true };

    /// <summary><c>managed</c>: a verified, managed device.</summary>
    public static DeviceRequirement ManagedDevice { get; } = new() { Managed = true };

    /// <summary><c>any</c>: no device needed (one that is presented must still verify).</summary>
    public static DeviceRequirement AnyDevice { get; } = new() { Required = false };
}

/// <summary>The <c>defaults:</c> section of a segment file. The built-in values are the strict ones.</summary>
public sealed record RuleDefaults
{
    /// <summary>Defaults to <see cref="MfaRequirement.Required"/>.</summary>
    public MfaRequirement Mfa { get; init; } = MfaRequirement.Required;

    /// <summary>Defaults to <see cref="DeviceRequirement.CompliantDevice"/>.</summary>
    public DeviceRequirement Device { get; init; } = DeviceRequirement.CompliantDevice;

    /// <summary>Longest time since <c>auth_time</c>. Defaults to 12 hours.</summary>
    public TimeSpan MaxAuthAge { get; init; } = TimeSpan.FromHours(12);
}

/// <summary>One entry of <c>services:</c>.</summary>
public sealed record ServiceConfig
{
    /// <summary>Service name (the key). Also the <c>aud</c> of gateway assertions sent to it.</summary>
    public required string Name { get; init; }

    /// <summary>Upstream base URLs. At least one is required.</summary>
    public IReadOnlyList<string> Destinations { get; init; } = [];

    /// <summary>Path probed by active health checks; null disables them.</summary>
    public string? HealthCheck { get; init; }

    /// <summary>Forward the caller's <c>Authorization</c> header. Defaults to false.</summary>
    public bool PassAuthorization { get; init; }

    /// <summary>The workload identity this service uses to call others; lets <c>graph</c> follow a breach onward.</summary>
    public string? Identity { get; init; }

    /// <summary>How https destinations are verified and what client certificate they get; null: the system store, no client certificate.</summary>
    public UpstreamTls? Tls { get; init; }

    /// <summary>Where the entry was written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}

/// <summary>One entry of <c>routes:</c>: a route of the policy (not a YARP route; the gateway gives YARP one catch-all route per listener).</summary>
public sealed record PolicyRoute
{
    /// <summary>Route id, unique in the segment. Required.</summary>
    public required string Id { get; init; }

    /// <summary>What requests the route takes. Required.</summary>
    public required RouteMatchConfig Match { get; init; }

    /// <summary>Name of a service of the same file. Required.</summary>
    public required string Service { get; init; }

    /// <summary>Allow rules; a request passes only if one applies and its requirements hold.</summary>
    public IReadOnlyList<RuleConfig> Allow { get; init; } = [];

    /// <summary>Deny rules; one that applies denies before any allow rule is looked at.</summary>
    public IReadOnlyList<RuleConfig> Deny { get; init; } = [];

    /// <summary>Where the entry was written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}

/// <summary>The <c>match:</c> of a route.</summary>
public sealed record RouteMatchConfig
{
    /// <summary>Path template: literal segments, <c>{name}</c> for one segment, a final <c>{**name}</c> for the rest. Required.</summary>
    public required string Path { get; init; }

    /// <summary>HTTP methods (upper case); empty matches every method.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];
}

/// <summary>Which users a rule names: any of groups, roles or subjects.</summary>
public sealed record UserSelector
{
    /// <summary>Values of the <c>groups</c> claim.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>Values of the <c>roles</c> claim.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>Values of <c>sub</c>.</summary>
    public IReadOnlyList<string> Subjects { get; init; } = [];
}

/// <summary>An allow or deny rule of a route.</summary>
public sealed record RuleConfig
{
    /// <summary>Unique within the route. Required.</summary>
    public required string Name { get; init; }

    /// <summary>Source segments, or <c>*</c>. Required on allow rules; absent on a deny rule means every source.</summary>
    public IReadOnlyList<string>? From { get; init; }

    /// <summary>The users the rule names; exactly one of this and <see cref="Workloads"/>.</summary>
    public UserSelector? Users { get; init; }

    /// <summary>The workload ids the rule names; exactly one of this and <see cref="Users"/>.</summary>
    public IReadOnlyList<string>? Workloads { get; init; }

    /// <summary>Methods the rule is limited to; null means those of the route.</summary>
    public IReadOnlyList<string>? Methods { get; init; }

    /// <summary>Client networks the rule is limited to; null means any.</summary>
    public IReadOnlyList<IPNetwork>? Networks { get; init; }

    /// <summary>Overrides <see cref="RuleDefaults.Mfa"/>.</summary>
    public MfaRequirement? Mfa { get; init; }

    /// <summary>Overrides <see cref="RuleDefaults.MaxAuthAge"/>.</summary>
    public TimeSpan? MaxAuthAge { get; init; }

    /// <summary>Acceptable <c>acr</c> values; null accepts any.</summary>
    public IReadOnlyList<string>? Acr { get; init; }

    /// <summary>Overrides <see cref="RuleDefaults.Device"/>.</summary>
    public DeviceRequirement? Device { get; init; }

    /// <summary>Just-in-time grant: the rule is ignored from this instant on.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>
    /// The credential must be bound to the connection (RFC 8705): a token whose <c>cnf</c> names the client certificate
    /// presented, or a workload certificate. Allow rules only; defaults to false.
    /// </summary>
    public bool BoundToken { get; init; }

    /// <summary>Where the rule was written.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}
