using System.Net;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Audit;

/// <summary>One OCSF line per decision in the file sink, written before the response is seen by the caller.</summary>
public sealed class AuditTrailTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private EchoUpstream _ledger = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        _gateway = await TestGateway.StartAsync(_identity, Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        _identity.Dispose();
    }

    [Fact]
    public async Task MixedBatch_HasExactlyOneLinePerDecision_WithMatchingDecisionIds()
    {
        using var finance = _gateway.Client("finance");
        var now = _gateway.Time.GetUtcNow();
        var good = _identity.User(now, "alice", ["finance-staff"]);
        var answers = new List<(Problem Answer, string Path, bool Allowed, string Reason)>();
        foreach (var (path, token, allowed, reason) in new (string, string?, bool, string)[]
        {
            ("/ledger/1", good, true, "allowed"),
            ("/ledger/2", null, false, "token-missing"),
            ("/ledger/3", "garbage", false, "token-invalid"),
            ("/nowhere", good, false, "route-not-found"),
            ("/ledger/4", _identity.User(now, "alice", ["finance-staff"], amr: ["pwd"]), false, "mfa-required"),
            ("/ledger/5", good, true, "allowed"),
            ("/dead/6", good, true, "upstream-unavailable"),
        })
        {
            answers.Add((await Problem.SendAsync(finance, HttpMethod.Get, path, token), path, allowed, reason));
        }

        var lines = await AuditLines.ReadWithoutPolicyChangesAsync(_gateway.AuditFile);

        Assert.Equal(answers.Count, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            var root = json.RootElement;
            var (answer, path, allowed, reason) = answers[i];
            Assert.Equal(4002, root.GetProperty("class_uid").GetInt32());
            Assert.Equal(allowed ? 1 : 2, root.GetProperty("action_id").GetInt32());
            Assert.True(root.GetProperty("time").GetInt64() > 0);
            Assert.Equal("GET", root.GetProperty("http_request").GetProperty("http_method").GetString());
            Assert.Equal(path, root.GetProperty("http_request").GetProperty("url").GetProperty("path").GetString());
            Assert.Equal((int)answer.Status, root.GetProperty("http_response").GetProperty("code").GetInt32());
            Assert.Equal("127.0.0.1", root.GetProperty("src_endpoint").GetProperty("ip").GetString());
            Assert.Equal(32, root.GetProperty("trace").GetProperty("uid").GetString()!.Length);
            var ztgw = root.GetProperty("unmapped").GetProperty("ztgw");
            Assert.Equal(reason, ztgw.GetProperty("reason").GetString());
            Assert.Equal("finance", ztgw.GetProperty("dst_segment").GetString());
            Assert.Equal(_gateway.Host.State.Current.Policy.Version, ztgw.GetProperty("policy_version").GetString());
            if (answer.DecisionId is not null)
            {
                Assert.Equal(answer.DecisionId, root.GetProperty("metadata").GetProperty("uid").GetString());
                Assert.Equal(answer.TraceId, root.GetProperty("trace").GetProperty("uid").GetString());
            }

            if (allowed)
            {
                Assert.Equal("alice", root.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
                Assert.Equal(path.Split('/')[1], root.GetProperty("policy").GetProperty("uid").GetString());
                Assert.Equal("finance", ztgw.GetProperty("src_segment").GetString());
            }
        }

        Assert.Equal(HttpStatusCode.OK, answers[0].Answer.Status);
    }
}
