using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Engine;

/// <summary>The result of one check of a rule: passed, or which condition failed.</summary>
internal enum RuleCheck
{
    /// <summary>Every condition checked held.</summary>
    Passed,

    /// <summary><c>from</c> does not name the source segment.</summary>
    SourceNotNamed,

    /// <summary>An allow rule written without <c>from</c>.</summary>
    NoSources,

    /// <summary>The rule names users and the caller is a workload, or the other way round.</summary>
    PrincipalKindMismatch,

    /// <summary>The rule names neither users nor workloads.</summary>
    NoPrincipals,

    /// <summary>The caller is not among the users or workloads the rule names.</summary>
    PrincipalNotNamed,

    /// <summary>The method is not among the rule's <c>methods</c>.</summary>
    MethodNotListed,

    /// <summary>The client address is unknown and the rule names networks.</summary>
    AddressUnknown,

    /// <summary>The client address is outside the rule's <c>networks</c>.</summary>
    NetworkNotListed,

    /// <summary>The rule's <c>until</c> has passed; every other condition held.</summary>
    GrantExpired,

    /// <summary>MFA is required and <c>amr</c> holds no multi-factor method.</summary>
    MfaMissing,

    /// <summary><c>acr</c> is not one the rule accepts.</summary>
    AcrNotAccepted,

    /// <summary>The token has no <c>auth_time</c> and the rule limits authentication age.</summary>
    AuthTimeMissing,

    /// <summary>Authentication is older than the rule's <c>maxAuthAge</c>.</summary>
    AuthTooOld,

    /// <summary>A signal asked this principal to authenticate again.</summary>
    StepUpSignaled,

    /// <summary>The rule asks for a credential bound to the connection and the caller sent a bearer token.</summary>
    TokenUnbound,

    /// <summary>The rule needs a verified device and none was presented.</summary>
    DeviceMissing,

    /// <summary>The device is not compliant.</summary>
    DeviceNoncompliant,

    /// <summary>The device is not managed.</summary>
    DeviceUnmanaged,

    /// <summary>The device's risk is above the rule's <c>maxRisk</c>.</summary>
    DeviceRiskTooHigh,
}

/// <summary>The facts one decision checks rules against, gathered once per request.</summary>
internal readonly struct RuleInput
{
    /// <summary>Gathers the facts.</summary>
    public RuleInput(
        Principal principal, string method, IPAddress? address, DevicePosture? device, int sourceIndex, bool stepUpRequired,
        CredentialBinding binding, DateTimeOffset now)
    {
        Principal = principal;
        WorkloadId = principal.WorkloadId ?? principal.Subject;
        Method = method;
        Address = address;
        Device = device;
        SourceIndex = sourceIndex;
        StepUpRequired = stepUpRequired;
        Binding = binding;
        Now = now;
    }

    /// <summary>The verified caller.</summary>
    public Principal Principal { get; }

    /// <summary>For workloads, the id rules name.</summary>
    public string WorkloadId { get; }

    /// <summary>The HTTP method.</summary>
    public string Method { get; }

    /// <summary>The client address; null when unknown.</summary>
    public IPAddress? Address { get; }

    /// <summary>The verified device, or null.</summary>
    public DevicePosture? Device { get; }

    /// <summary>Index of the source segment, or -1 for a device segment outside the policy.</summary>
    public int SourceIndex { get; }

    /// <summary>A signal asked this principal to step up.</summary>
    public bool StepUpRequired { get; }

    /// <summary>How the credential is bound to the connection.</summary>
    public CredentialBinding Binding { get; }

    /// <summary>The instant of the decision.</summary>
    public DateTimeOffset Now { get; }
}

/// <summary>
/// The single implementation of every rule check. Checks return a <see cref="RuleCheck"/>; only <c>explain</c>
/// turns one into a sentence, with <see cref="Describe"/>.
/// </summary>
internal static class RuleEvaluator
{
    /// <summary>Whether <paramref name="rule"/> applies: from, principal, methods, networks, until, in that order.</summary>
    public static RuleCheck Applies(CompiledRule rule, in RuleInput input)
    {
        if (!rule.HasFrom)
        {
            return RuleCheck.NoSources;
        }

        if (!rule.NamesSource(input.SourceIndex))
        {
            return RuleCheck.SourceNotNamed;
        }

        var principal = PrincipalMatches(rule, in input);
        if (principal != RuleCheck.Passed)
        {
            return principal;
        }

        if (rule.Methods is { } methods && !methods.Contains(input.Method))
        {
            return RuleCheck.MethodNotListed;
        }

        if (rule.Networks is { } networks)
        {
            if (input.Address is null)
            {
                return RuleCheck.AddressUnknown;
            }

            if (!NetworkMatching.Contains(networks, input.Address))
            {
                return RuleCheck.NetworkNotListed;
            }
        }

        if (rule.Until is { } until && input.Now >= until)
        {
            return RuleCheck.GrantExpired;
        }

        return RuleCheck.Passed;
    }

    /// <summary>
    /// Whether the requirements of an applicable allow rule hold: for users mfa, acr, maxAuthAge, step-up signal,
    /// bound credential, device, in that order. Workload rules have only the bound credential.
    /// </summary>
    public static RuleCheck Requirements(CompiledRule rule, in RuleInput input, FrozenSet<string> mfaMethods, TimeSpan clockSkew)
    {
        if (input.Principal.Kind != PrincipalKind.User)
        {
            return Binding(rule, in input);
        }

        var principal = input.Principal;
        if (rule.Mfa == MfaRequirement.Required && !AnyIn(principal.Amr, mfaMethods))
        {
            return RuleCheck.MfaMissing;
        }

        if (rule.Acr is { } acr && (principal.Acr is null || !acr.Contains(principal.Acr)))
        {
            return RuleCheck.AcrNotAccepted;
        }

        if (principal.AuthTime is not { } authTime)
        {
            return RuleCheck.AuthTimeMissing;
        }

        if (input.Now - authTime > rule.MaxAuthAge + clockSkew)
        {
            return RuleCheck.AuthTooOld;
        }

        if (input.StepUpRequired)
        {
            return RuleCheck.StepUpSignaled;
        }

        var binding = Binding(rule, in input);
        if (binding != RuleCheck.Passed)
        {
            return binding;
        }

        var requirement = rule.Device;
        if (input.Device is not { } device)
        {
            return requirement.Required ? RuleCheck.DeviceMissing : RuleCheck.Passed;
        }

        if (requirement.Compliant && !device.Compliant)
        {
            return RuleCheck.DeviceNoncompliant;
        }

        if (requirement.Managed && !device.Managed)
        {
            return RuleCheck.DeviceUnmanaged;
        }

        if (requirement.MaxRisk is { } maxRisk && device.Risk > maxRisk)
        {
            return RuleCheck.DeviceRiskTooHigh;
        }

        return RuleCheck.Passed;
    }

    /// <summary>
    /// Whether the credential is bound as <c>boundToken</c> asks: a certificate-bound token or a workload certificate
    /// (which is itself a proof of possession) will do; a bearer token will not.
    /// </summary>
    public static RuleCheck Binding(CompiledRule rule, in RuleInput input) =>
        rule.BoundToken && input.Binding == CredentialBinding.None ? RuleCheck.TokenUnbound : RuleCheck.Passed;

    /// <summary>The reason code a failed requirement answers with.</summary>
    public static ReasonCode ToReason(RuleCheck check) => check switch
    {
        RuleCheck.Passed => ReasonCode.Allowed,
        RuleCheck.MfaMissing => ReasonCode.MfaRequired,
        RuleCheck.AcrNotAccepted => ReasonCode.AcrInsufficient,
        RuleCheck.AuthTimeMissing or RuleCheck.AuthTooOld or RuleCheck.StepUpSignaled => ReasonCode.AuthTooOld,
        RuleCheck.TokenUnbound => ReasonCode.TokenUnbound,
        RuleCheck.DeviceMissing => ReasonCode.DeviceMissing,
        RuleCheck.DeviceNoncompliant => ReasonCode.DeviceNoncompliant,
        RuleCheck.DeviceUnmanaged => ReasonCode.DeviceUnmanaged,
        RuleCheck.DeviceRiskTooHigh => ReasonCode.DeviceRiskTooHigh,
        RuleCheck.GrantExpired => ReasonCode.GrantExpired,
        _ => ReasonCode.NoMatchingRule,
    };

    /// <summary>
    /// How strongly a failed requirement should be reported: the lowest tells the caller best what to do
    /// (step-up, then a bound credential, then device, then anything else).
    /// </summary>
    public static int Priority(ReasonCode reason) => reason switch
    {
        ReasonCode.MfaRequired => 0,
        ReasonCode.AcrInsufficient => 1,
        ReasonCode.AuthTooOld => 2,
        ReasonCode.TokenUnbound => 3,
        _ when reason.IsDevice() => 4,
        _ => 5,
    };

    /// <summary>One sentence for <c>explain</c>: what matched, or which condition failed and why.</summary>
    public static string Describe(CompiledRule rule, RuleCheck check, in RuleInput input, SourceSegments sources, FrozenSet<string> mfaMethods, TimeSpan clockSkew)
    {
        var principal = input.Principal;
        var source = input.SourceIndex >= 0 ? sources.NameOf(input.SourceIndex) : input.Device?.Segment ?? SourceSegments.Unknown;
        return check switch
        {
            RuleCheck.Passed when rule.IsDeny => "applies: the request is denied",
            RuleCheck.Passed => "applies and every requirement holds",
            RuleCheck.NoSources => "rule names no source segments (no from)",
            RuleCheck.SourceNotNamed => $"from {List(rule.Config.From ?? [])} does not include source segment {source}",
            RuleCheck.NoPrincipals => "rule names neither users nor workloads",
            RuleCheck.PrincipalKindMismatch => principal.Kind == PrincipalKind.User
                ? "principal is a user; rule names workloads"
                : "principal is a workload; rule names users",
            RuleCheck.PrincipalNotNamed when principal.Kind == PrincipalKind.Workload =>
                $"workload {input.WorkloadId} is not in workloads {List(rule.Config.Workloads ?? [])}",
            RuleCheck.PrincipalNotNamed =>
                $"user {principal.Subject} has none of groups {List(rule.Config.Users?.Groups ?? [])}, " +
                $"roles {List(rule.Config.Users?.Roles ?? [])}, subjects {List(rule.Config.Users?.Subjects ?? [])}",
            RuleCheck.MethodNotListed => $"method {input.Method} is not in methods {List(rule.Config.Methods ?? [])}",
            RuleCheck.AddressUnknown => $"client address is unknown; rule is limited to networks {Networks(rule)}",
            RuleCheck.NetworkNotListed => $"client address {input.Address} is not in networks {Networks(rule)}",
            RuleCheck.GrantExpired => $"grant expired at {Instant(rule.Until!.Value)}",
            RuleCheck.MfaMissing => $"requires mfa ({string.Join(", ", mfaMethods.Order(StringComparer.Ordinal))}); amr is {List(principal.Amr)}",
            RuleCheck.AcrNotAccepted => $"requires acr in {List(rule.AcrValues)}; acr is {principal.Acr ?? "absent"}",
            RuleCheck.AuthTimeMissing => $"requires authentication within {Durations.Format(rule.MaxAuthAge)}; auth_time is missing",
            RuleCheck.AuthTooOld =>
                $"requires authentication within {Durations.Format(rule.MaxAuthAge)} (clock skew {Durations.Format(clockSkew)}); " +
                $"auth_time {Instant(principal.AuthTime!.Value)} is {Durations.Format(WholeSeconds(input.Now - principal.AuthTime.Value))} old",
            RuleCheck.StepUpSignaled => "a signal requires this principal to authenticate again",
            RuleCheck.TokenUnbound =>
                "requires a credential bound to the connection (a token whose cnf names the client certificate, or a workload certificate); the token is a bearer token",
            RuleCheck.DeviceMissing => "requires a verified device; none was presented",
            RuleCheck.DeviceNoncompliant => $"requires a compliant device; device {input.Device?.DeviceId} is not compliant",
            RuleCheck.DeviceUnmanaged => $"requires a managed device; device {input.Device?.DeviceId} is not managed",
            RuleCheck.DeviceRiskTooHigh =>
                $"requires device risk at most {Risk(rule.Device.MaxRisk)}; device {input.Device?.DeviceId} reports {Risk(input.Device?.Risk)}",
            _ => check.ToString(),
        };
    }

    private static RuleCheck PrincipalMatches(CompiledRule rule, in RuleInput input)
    {
        if (rule.PrincipalKind is not { } kind)
        {
            return RuleCheck.NoPrincipals;
        }

        var principal = input.Principal;
        if (principal.Kind != kind)
        {
            return RuleCheck.PrincipalKindMismatch;
        }

        if (kind == PrincipalKind.Workload)
        {
            return rule.Workloads.Contains(input.WorkloadId) ? RuleCheck.Passed : RuleCheck.PrincipalNotNamed;
        }

        return AnyIn(principal.Groups, rule.Groups) || AnyIn(principal.Roles, rule.Roles) || rule.Subjects.Contains(principal.Subject)
            ? RuleCheck.Passed
            : RuleCheck.PrincipalNotNamed;
    }

    // Indexed loop: enumerating an IReadOnlyList through its interface would allocate an enumerator.
    private static bool AnyIn(IReadOnlyList<string> values, FrozenSet<string> set)
    {
        if (set.Count == 0)
        {
            return false;
        }

        for (var i = 0; i < values.Count; i++)
        {
            if (set.Contains(values[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static string List(IEnumerable<string> values) => "[" + string.Join(", ", values) + "]";

    private static string Networks(CompiledRule rule) => List((rule.Config.Networks ?? []).Select(n => n.ToString()));

    private static string Instant(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Risk(RiskLevel? risk) => risk switch
    {
        RiskLevel.Low => "low",
        RiskLevel.Medium => "medium",
        RiskLevel.High => "high",
        _ => "any",
    };

    // The age to the whole second: auth_time is a NumericDate (whole seconds), and the clock ticks finer than the
    // duration syntax can write.
    private static TimeSpan WholeSeconds(TimeSpan value) => TimeSpan.FromTicks(value.Ticks - (value.Ticks % TimeSpan.TicksPerSecond));
}
