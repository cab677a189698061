using System.Text.Json;
using ZtGateway.Enforcement.Model;
using ZtGateway.Runtime;

namespace ZtGateway.Management;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (policy loaded, keys loaded, every served listener up).</summary>
internal static class HealthEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", (GatewayStateHolder state, IGatewayStatus status) =>
        {
            var checks = Readiness.Check(state.Current, status);
            var ready = checks.All(c => c.Ready);
            return Results.Text(JsonSerializer.Serialize(new
            {
                ready,
                checks = checks.Select(c => new { name = c.Name, ready = c.Ready, detail = c.Detail }),
            }), "application/json", statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
    }
}

/// <summary>The readiness checks, one line each.</summary>
internal static class Readiness
{
    public sealed record Item(string Name, bool Ready, string Detail);

    public static List<Item> Check(GatewayState state, IGatewayStatus status)
    {
        var checks = new List<Item> { new("policy", true, "version " + state.Policy.Version) };
        foreach (var segment in status.OpenSegments.Order(StringComparer.Ordinal))
        {
            checks.Add(new("listener:" + segment, true, "listening"));
        }

        if (status.OpenSegments.Count == 0)
        {
            checks.Add(new("listeners", false, "no segment listener is open yet"));
        }

        if (status.SharedState is { } shared)
        {
            checks.Add(new("shared-state", shared.Connected, shared.Detail));
        }

        // An issuer whose keys never loaded would refuse every token it issued.
        foreach (var issuer in state.Tokens.GetReadiness())
        {
            checks.Add(new("keys:" + issuer.Issuer, issuer.Ready, issuer.Detail));
        }

        return checks;
    }
}
