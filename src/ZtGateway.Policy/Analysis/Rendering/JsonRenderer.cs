using System.Text;
using System.Text.Json;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Analysis.Rendering;

/// <summary>Indented JSON for machines: the reachability graph, the blast radius, the policy diff and explain.</summary>
internal static class JsonRenderer
{
    /// <summary>The segments with their routes, and every grant with its requirements and state.</summary>
    public static void Graph(ReachabilityGraph graph, TextWriter output)
    {
        Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteString("at", Text.Instant(graph.At));
            json.WriteStartArray("segments");
            foreach (var segment in graph.Segments)
            {
                json.WriteStartObject();
                json.WriteString("name", segment.Name);
                json.WriteString("description", segment.Description);
                Strings(json, "workloads", segment.Workloads);
                Strings(json, "networks", segment.Networks.Select(n => n.ToString()));
                json.WriteStartArray("routes");
                foreach (var route in segment.Routes)
                {
                    Route(json, route);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("grants");
            foreach (var grant in graph.Grants)
            {
                json.WriteStartObject();
                json.WriteString("destination", grant.DestinationSegment);
                json.WriteString("route", grant.Route.Id);
                json.WriteString("rule", grant.Rule);
                Strings(json, "from", grant.From);
                json.WriteString("principalKind", grant.PrincipalKind == PrincipalKind.User ? "user" : "workload");
                if (grant.Users is { } users)
                {
                    json.WriteStartObject("users");
                    Strings(json, "groups", users.Groups);
                    Strings(json, "roles", users.Roles);
                    Strings(json, "subjects", users.Subjects);
                    json.WriteEndObject();
                }
                else
                {
                    Strings(json, "workloads", grant.Workloads);
                }

                Strings(json, "methods", grant.Methods);
                Requirements(json, grant.Requirements);
                json.WriteBoolean("live", grant.Blocked is null);
                json.WriteString("blocked", grant.Blocked?.ToCode());
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    /// <summary>The compromise, the workloads taken over, and every path hop by hop.</summary>
    public static void BlastRadius(BlastRadiusReport report, TextWriter output)
    {
        Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteString("compromised", report.Start.ToString());
            json.WriteString("at", Text.Instant(report.At));
            Strings(json, "pivotWorkloads", report.PivotWorkloads);
            json.WriteStartArray("paths");
            foreach (var path in report.Paths)
            {
                json.WriteStartObject();
                json.WriteString("segment", path.Target.DestinationSegment);
                json.WriteString("route", path.Target.Route.Id);
                json.WriteStartArray("hops");
                foreach (var hop in path.Hops)
                {
                    json.WriteStartObject();
                    json.WriteString("actor", hop.Actor);
                    json.WriteString("source", hop.SourceSegment);
                    json.WriteString("destination", hop.DestinationSegment);
                    json.WriteString("route", hop.Route.Id);
                    json.WriteString("path", hop.Route.Path);
                    Strings(json, "methods", hop.Methods);
                    json.WriteBoolean("anyMethod", hop.AnyMethod);
                    Strings(json, "rules", hop.Rules);
                    json.WriteString("service", hop.Route.Service);
                    json.WriteString("serviceIdentity", hop.Route.ServiceIdentity);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    /// <summary>Whether the change opens access, and every change.</summary>
    public static void Diff(PolicyDiffReport report, TextWriter output) => Write(output, json =>
    {
        json.WriteStartObject();
        json.WriteBoolean("opens", report.Opens);
        json.WriteStartArray("changes");
        foreach (var change in report.Changes)
        {
            json.WriteStartObject();
            json.WriteString("change", Labels.Verb(change.Kind));
            json.WriteString("source", change.SourceSegment);
            json.WriteString("destination", change.DestinationSegment);
            json.WriteString("route", change.RouteId);
            json.WriteString("path", change.Path);
            Strings(json, "methods", change.Methods);
            json.WriteBoolean("anyMethod", change.AnyMethod);
            json.WriteString("principal", change.Principal);
            json.WriteString("rule", change.Rule);
            Strings(json, "details", change.Details);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    /// <summary>The decision, what the verifiers said, and the rule-by-rule trace; <c>maxAuthAgeSeconds</c> in whole seconds.</summary>
    public static void Explain(ExplainReport report, TextWriter output) => Write(output, json =>
    {
        var explanation = report.Explanation;
        var decision = explanation.Decision;
        json.WriteStartObject();
        json.WriteString("decision", decision.Allowed ? "allow" : "deny");
        json.WriteString("reason", decision.Reason.ToCode());
        json.WriteString("sourceSegment", decision.SourceSegment);
        json.WriteString("destinationSegment", decision.DestinationSegment);
        json.WriteString("route", decision.RouteId);
        json.WriteString("service", decision.Service);
        json.WriteString("rule", decision.RuleName);
        Strings(json, "acrValues", decision.AcrValues);
        if (decision.MaxAuthAge is { } maxAge)
        {
            json.WriteNumber("maxAuthAgeSeconds", (long)maxAge.TotalSeconds);
        }
        else
        {
            json.WriteNull("maxAuthAgeSeconds");
        }

        json.WriteString("at", Text.Instant(report.At));
        Verification(json, "token", report.TokenDetail is null ? null : Labels.Status(report.Request.Token), report.TokenDetail);
        Verification(json, "device", report.DeviceDetail is null ? null : Labels.Status(report.Request.DeviceStatus), report.DeviceDetail);
        json.WriteStartArray("rules");
        foreach (var rule in explanation.Rules)
        {
            json.WriteStartObject();
            json.WriteString("rule", rule.Rule);
            json.WriteString("kind", rule.IsDeny ? "deny" : "allow");
            json.WriteBoolean("applies", rule.Applies);
            json.WriteString("outcome", rule.Outcome?.ToCode());
            json.WriteString("detail", rule.Detail);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    /// <summary>Writes one indented JSON document and a newline.</summary>
    private static void Write(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            write(json);
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    // What a verifier said: null when no material was given, else its status and detail.
    private static void Verification(Utf8JsonWriter json, string name, string? status, string? detail)
    {
        if (status is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteStartObject(name);
        json.WriteString("status", status);
        json.WriteString("detail", detail);
        json.WriteEndObject();
    }

    private static void Route(Utf8JsonWriter json, RouteNode route)
    {
        json.WriteStartObject();
        json.WriteString("id", route.Id);
        json.WriteString("path", route.Path);
        Strings(json, "methods", route.Methods);
        json.WriteString("service", route.Service);
        json.WriteString("serviceIdentity", route.ServiceIdentity);
        json.WriteStartArray("deny");
        foreach (var deny in route.Deny)
        {
            json.WriteStartObject();
            json.WriteString("rule", deny.Rule);
            Strings(json, "from", deny.From);
            Strings(json, "principals", deny.Principals);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Requirements(Utf8JsonWriter json, AccessRequirements requirements)
    {
        json.WriteStartObject("requirements");
        json.WriteString("mfa", requirements.Mfa switch
        {
            MfaRequirement.Required => "required",
            MfaRequirement.Optional => "optional",
            _ => null,
        });
        json.WriteString("maxAuthAge", requirements.MaxAuthAge is { } age ? Durations.Format(age) : null);
        Strings(json, "acr", requirements.Acr);
        json.WriteBoolean("boundToken", requirements.BoundToken);
        if (requirements.Device is { } device)
        {
            json.WriteStartObject("device");
            json.WriteBoolean("required", device.Required);
            json.WriteBoolean("compliant", device.Compliant);
            json.WriteBoolean("managed", device.Managed);
            json.WriteString("maxRisk", device.MaxRisk is { } risk ? Text.Risk(risk) : null);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("device");
        }

        Strings(json, "networks", requirements.Networks.Select(n => n.ToString()));
        json.WriteString("until", requirements.Until is { } until ? Text.Instant(until) : null);
        json.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
