using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary>The transport keys of a segment file: <c>protocols</c>, each bad value an error at its line.</summary>
public sealed class TlsLoadingTests : IDisposable
{
    private readonly PolicyFolder _folder = PolicySamples.Minimal();

    public void Dispose() => _folder.Dispose();

    private static string Hr(string listen, string extra) => $$"""
        segment: hr
        listen: {{listen}}
        {{extra}}
        services:
          payroll:
            destinations: [http://127.0.0.1:7102]
        routes:
          - id: payroll-read
            match: { path: "/payroll/{**rest}", methods: [GET] }
            service: payroll
            allow:
              - name: hr-staff
                from: [hr, finance]
                users: { groups: [hr-staff] }

        """;

    [Theory]
    [InlineData("", ListenerProtocols.Http1)]
    [InlineData("protocols: [http1]", ListenerProtocols.Http1)]
    [InlineData("protocols: [http2]", ListenerProtocols.Http2)]
    public void Protocols_OnAPlainListener(string line, ListenerProtocols expected)
    {
        _folder.Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", line));

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.Equal(expected, result.Policy!.Segments["hr"].Protocols);
    }

    [Theory]
    [InlineData("protocols: []", "segments/hr.yaml:3:12: error: 'protocols' must name at least one protocol (http1, http2)")]
    [InlineData("protocols: [http3]", "segments/hr.yaml:3:13: error: protocol 'http3' in 'protocols' must be http1 or http2")]
    [InlineData("protocols: [HTTP2]", "segments/hr.yaml:3:13: error: protocol 'HTTP2' in 'protocols' must be http1 or http2")]
    [InlineData("protocols: [http1, http1]", "segments/hr.yaml:3:20: error: protocol 'http1' is listed twice in 'protocols'")]
    [InlineData("protocols: [http1, ~]", "segments/hr.yaml:3:20: error: 'protocols' has an empty entry")]
    [InlineData("protocols: http2", "segments/hr.yaml:3:12: error: 'protocols' must be a list, not a single value")]
    [InlineData("protocols: [http1, http2]",
        "segments/hr.yaml:3:12: error: 'protocols' [http1, http2] needs an https listen: a plain http listener serves either [http1] or [http2] (h2c with prior knowledge)")]
    public void BadProtocols_AreErrorsAtTheirLine(string line, string expected)
    {
        _folder.Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", line));

        var result = _folder.Load();

        Assert.False(result.Succeeded);
        Assert.Equal(expected, Assert.Single(_folder.Format(result)));
    }
}
