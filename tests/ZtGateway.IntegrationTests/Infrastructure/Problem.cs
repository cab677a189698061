using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>A problem+json answer read back from the gateway.</summary>
public sealed record Problem(HttpStatusCode Status, string? Reason, string? DecisionId, string? TraceId, string? Challenge, string ContentType, string Body)
{
    public static async Task<Problem> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        string? reason = null, decisionId = null, traceId = null;
        var contentType = response.Content.Headers.ContentType?.MediaType ?? string.Empty;
        if (contentType == "application/problem+json")
        {
            using var json = JsonDocument.Parse(body);
            reason = json.RootElement.GetProperty("reason").GetString();
            decisionId = json.RootElement.GetProperty("decisionId").GetString();
            traceId = json.RootElement.GetProperty("traceId").GetString();
        }

        var challenge = response.Headers.WwwAuthenticate.Count > 0 ? string.Join(", ", response.Headers.WwwAuthenticate) : null;
        return new Problem(response.StatusCode, reason, decisionId, traceId, challenge, contentType, body);
    }

    public static async Task<Problem> SendAsync(HttpClient client, HttpMethod method, string path, string? token = null,
        Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        configure?.Invoke(request);
        using var response = await client.SendAsync(request);
        return await ReadAsync(response);
    }
}
