using System.Net;
using Microsoft.IdentityModel.Protocols;
using Polly;

namespace ZtGateway.Sources.Identity;

/// <summary>
/// Reads an issuer's discovery document over HTTP through its <see cref="MetadataResilience"/> pipeline; the key
/// set the document names is fetched by the issuer's <see cref="ZtGateway.KeySets.JsonWebKeySetCache"/>.
/// </summary>
internal sealed class MetadataDocumentRetriever : IDocumentRetriever
{
    private readonly HttpClient _httpClient;
    private readonly ResiliencePipeline _pipeline;
    private readonly bool _requireHttps;

    /// <summary>Creates a retriever over <paramref name="httpClient"/>.</summary>
    /// <param name="httpClient">The backchannel; not owned.</param>
    /// <param name="pipeline">Timeout, retry and circuit breaker for each document.</param>
    /// <param name="requireHttps">Refuse any address that is not https (nothing is sent).</param>
    public MetadataDocumentRetriever(HttpClient httpClient, ResiliencePipeline pipeline, bool requireHttps)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(pipeline);
        _httpClient = httpClient;
        _pipeline = pipeline;
        _requireHttps = requireHttps;
    }

    /// <inheritdoc />
    public async Task<string> GetDocumentAsync(string address, CancellationToken cancel)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && (_requireHttps || uri.Scheme != Uri.UriSchemeHttp)))
        {
            throw new ArgumentException("metadata address must be an absolute " + (_requireHttps ? "https" : "http(s)") + " URL: " + address, nameof(address));
        }

        return await _pipeline.ExecuteAsync(
            static async (state, token) =>
            {
                using var response = await state.Client.GetAsync(state.Uri, token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw new MetadataStatusException(state.Uri, response.StatusCode);
                }

                return await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
            },
            (Client: _httpClient, Uri: uri),
            cancel).ConfigureAwait(false);
    }
}

/// <summary>The provider answered a metadata or key request with a non-success status.</summary>
internal sealed class MetadataStatusException : IOException
{
    /// <summary>Creates the exception for <paramref name="address"/>.</summary>
    public MetadataStatusException(Uri address, HttpStatusCode statusCode)
        : base($"{address} answered {(int)statusCode} {statusCode}")
    {
        StatusCode = statusCode;
    }

    /// <summary>The status the provider answered with.</summary>
    public HttpStatusCode StatusCode { get; }
}
