using ZtGateway.Enforcement.Model;

namespace ZtGateway.Management;

/// <summary><c>GET /admin/policy</c>: the effective policy version and a summary of segments and routes (admins only).</summary>
internal static class PolicyEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/admin/policy", async (HttpContext context, GatewayStateHolder holder) =>
        {
            var state = holder.Current;
            var refusal = await AdminGuard.CheckAsync(context, state);
            if (refusal is not null)
            {
                return refusal;
            }

            var policy = state.Policy;
            return Results.Json(new
            {
                version = policy.Version,
                segments = policy.Segments.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => new
                {
                    name = s.Name,
                    listen = s.Listen,
                    services = s.Services.Keys.Order(StringComparer.Ordinal),
                    routes = s.Routes.Select(r => new
                    {
                        id = r.Id,
                        path = r.Match.Path,
                        methods = r.Match.Methods,
                        service = r.Service,
                        allow = r.Allow.Select(a => new { name = a.Name, from = a.From }),
                        deny = r.Deny.Select(d => d.Name),
                    }),
                }),
            });
        });
    }
}
