using System.Net;
using System.Net.Http.Headers;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Transport;

/// <summary>
/// The <c>protocols</c> key of a plain http listener: <c>[http2]</c> serves h2c with prior knowledge, the default serves
/// HTTP/1.1, and either way an allowed request reaches its upstream.
/// </summary>
public sealed class ProtocolTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private EchoUpstream _payroll = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _payroll = await EchoUpstream.StartAsync("payroll");
        _gateway = await TestGateway.StartAsync(_identity, new Dictionary<string, string>
        {
            ["hr"] = Segment("hr", "protocols: [http2]"),
            ["finance"] = Segment("finance", string.Empty),
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _payroll.DisposeAsync();
        _identity.Dispose();
    }

    private string Segment(string name, string protocols) => $$"""
        segment: {{name}}
        listen: http://127.0.0.1:0
        {{protocols}}
        members:
          networks: [127.0.0.0/8]
        defaults: { device: any }
        services:
          payroll: { destinations: [{{_payroll.Url}}] }
        routes:
          - id: payroll-read
            match: { path: "/payroll/{**rest}", methods: [GET] }
            service: payroll
            allow:
              - { name: staff, from: ["*"], users: { groups: [hr-staff] } }
        """;

    private HttpRequestMessage Get(Uri listener, Version version) => new(HttpMethod.Get, new Uri(listener, "/payroll/alice"))
    {
        Version = version,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Headers = { Authorization = new AuthenticationHeaderValue("Bearer", _identity.User(_gateway.Time.GetUtcNow(), "harry", ["hr-staff"])) },
    };

    [Fact]
    public async Task H2cWithPriorKnowledge_ReachesTheUpstream()
    {
        using var client = new HttpClient();

        using var response = await client.SendAsync(Get(_gateway.Listener("hr"), HttpVersion.Version20));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var request = Assert.Single(_payroll.Requests);
        Assert.Equal("/payroll/alice", request.Path);
    }

    [Fact]
    public async Task H2cListener_RefusesHttp11()
    {
        using var client = new HttpClient();

        // Prior knowledge only: an HTTP/1.1 request line is not an HTTP/2 preface; Kestrel answers it with an error of its
        // own and nothing is forwarded.
        using var response = await client.SendAsync(Get(_gateway.Listener("hr"), HttpVersion.Version11));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_payroll.Requests);
    }

    [Fact]
    public async Task DefaultPlainListener_ServesHttp11_AndNotH2c()
    {
        using var client = new HttpClient();

        using var response = await client.SendAsync(Get(_gateway.Listener("finance"), HttpVersion.Version11));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.SendAsync(Get(_gateway.Listener("finance"), HttpVersion.Version20)));
        Assert.Single(_payroll.Requests);
    }
}
