using System.Globalization;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Analysis;

/// <summary>How analyses write values: instants in UTC, lists in brackets (durations: <see cref="Durations.Format"/>).</summary>
internal static class Text
{
    public static string Instant(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string List(IEnumerable<string> values) => "[" + string.Join(", ", values) + "]";

    public static string Risk(RiskLevel risk) => risk switch
    {
        RiskLevel.Low => "low",
        RiskLevel.Medium => "medium",
        _ => "high",
    };

    /// <summary><c>*</c> for every method, else the methods joined by commas.</summary>
    public static string Methods(IReadOnlyList<string> methods) => methods.Count == 0 ? "*" : string.Join(',', methods);

    /// <summary>Who a grant names, e.g. <c>users in groups [hr-staff]</c>.</summary>
    public static string Principals(AccessGrant grant)
    {
        if (grant.PrincipalKind == PrincipalKind.Workload)
        {
            return "workloads " + List(grant.Workloads);
        }

        var users = grant.Users ?? new UserSelector();
        var parts = new List<string>();
        if (users.Groups.Count > 0)
        {
            parts.Add("groups " + List(users.Groups));
        }

        if (users.Roles.Count > 0)
        {
            parts.Add("roles " + List(users.Roles));
        }

        if (users.Subjects.Count > 0)
        {
            parts.Add("subjects " + List(users.Subjects));
        }

        return "users in " + string.Join(" or ", parts);
    }

    /// <summary>The requirements in a few words, e.g. <c>mfa, auth within 12h, device compliant</c>; empty when there are none.</summary>
    public static string Requirements(AccessRequirements requirements)
    {
        var parts = new List<string>();
        if (requirements.Mfa is { } mfa)
        {
            parts.Add(mfa == MfaRequirement.Required ? "mfa" : "mfa optional");
        }

        if (requirements.MaxAuthAge is { } age)
        {
            parts.Add("auth within " + Durations.Format(age));
        }

        if (requirements.Acr.Count > 0)
        {
            parts.Add("acr " + List(requirements.Acr));
        }

        if (requirements.BoundToken)
        {
            parts.Add("bound token");
        }

        if (requirements.Device is { } device)
        {
            parts.Add("device " + Device(device));
        }

        if (requirements.Networks.Count > 0)
        {
            parts.Add("networks " + List(requirements.Networks.Select(n => n.ToString())));
        }

        if (requirements.Until is { } until)
        {
            parts.Add("until " + Instant(until));
        }

        return string.Join(", ", parts);
    }

    /// <summary><c>any</c>, or what the device must be, e.g. <c>compliant+managed, risk up to low</c>.</summary>
    public static string Device(DeviceRequirement device)
    {
        if (!device.Required)
        {
            return "any";
        }

        var parts = new List<string>();
        if (device.Compliant)
        {
            parts.Add("compliant");
        }

        if (device.Managed)
        {
            parts.Add("managed");
        }

        var text = parts.Count == 0 ? "verified" : string.Join('+', parts);
        return device.MaxRisk is { } risk ? $"{text}, risk up to {Risk(risk)}" : text;
    }
}
