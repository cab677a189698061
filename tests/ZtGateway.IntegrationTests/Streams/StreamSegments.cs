using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Streams;

/// <summary>
/// The segments of the streaming tests: <c>finance</c> on HTTP/1.1 with WebSocket and event-stream routes, and
/// <c>ops</c> on h2c (<c>protocols: [http2]</c>) with gRPC routes. Loopback callers belong to finance.
/// </summary>
public static class StreamSegments
{
    public static Dictionary<string, string> For(StreamingUpstream upstream) => new()
    {
        ["finance"] = $$"""
            segment: finance
            listen: http://127.0.0.1:0
            members:
              networks: [127.0.0.0/8]
            defaults: { device: any }
            services:
              live: { destinations: [{{upstream.Http1Url}}] }
            routes:
              - id: ws
                match: { path: "/ws/{**rest}" }
                service: live
                allow:
                  - { name: staff, from: [finance], users: { groups: [staff] } }
              - id: events
                match: { path: "/events/{**rest}", methods: [GET] }
                service: live
                allow:
                  - { name: staff, from: [finance], users: { groups: [staff] } }
            """,
        ["ops"] = $$"""
            segment: ops
            listen: http://127.0.0.1:0
            protocols: [http2]
            members:
              networks: [10.99.0.0/16]
            defaults: { device: any }
            services:
              echo: { destinations: [{{upstream.GrpcUrl}}] }
              live: { destinations: [{{upstream.Http1Url}}] }
              dead: { destinations: ["http://127.0.0.1:{{Topology.UnusedPort()}}"] }
            routes:
              - id: echo
                match: { path: "/echo.Echo/{**method}", methods: [POST] }
                service: echo
                allow:
                  - { name: staff, from: [finance], users: { groups: [staff] } }
              - id: ws
                match: { path: "/ws/{**rest}" }
                service: live
                allow:
                  - { name: staff, from: [finance], users: { groups: [staff] } }
              - id: ops-only
                match: { path: "/ops.Admin/Run", methods: [POST] }
                service: echo
                allow:
                  - { name: operators, from: [ops], users: { groups: [staff] } }
              - id: dead
                match: { path: "/dead.Dead/{**method}", methods: [POST] }
                service: dead
                allow:
                  - { name: staff, from: [finance], users: { groups: [staff] } }
            """,
    };
}
