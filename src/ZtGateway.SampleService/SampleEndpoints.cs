namespace ZtGateway.SampleService;

/// <summary>The demo upstream's endpoints: a health probe and an echo of what reached it.</summary>
public static class SampleEndpoints
{
    /// <summary>Maps <c>/healthz</c> and a catch-all echo.</summary>
    public static WebApplication MapSampleEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.Map("/{**path}", (HttpContext context) => Results.Json(new Dictionary<string, object?>
        {
            ["service"] = app.Environment.ApplicationName,
            ["method"] = context.Request.Method,
            ["path"] = context.Request.Path.Value,
        }));
        return app;
    }
}
