using System.Net;
using System.Text.Json;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.Continuous;

/// <summary>The admin quarantine API: admins only, effective on the next request, audited, durable.</summary>
public sealed class QuarantineApiTests : IAsyncLifetime
{
    private readonly TestIdentity _identity = new();
    private readonly TestTransmitter _transmitter = new();
    private readonly TestDevices _devices = new();
    private EchoUpstream _ledger = null!;
    private ContinuousGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _ledger = await EchoUpstream.StartAsync("ledger");
        _gateway = await ContinuousGateway.StartAsync(_identity, _transmitter,
            Topology.Standard(_ledger.Url, _ledger.Url, DateTimeOffset.UtcNow.AddDays(1)), _devices);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _ledger.DisposeAsync();
        _identity.Dispose();
        _transmitter.Dispose();
        _devices.Dispose();
    }

    private DateTimeOffset Now => _gateway.Time.GetUtcNow();

    private string Admin() => _identity.User(Now, "root", roles: ["ZtGatewayAdmin"]);

    private async Task<Problem> Finance(string sub, string path = "/ledger/1", string? device = null)
    {
        using var finance = _gateway.Client("finance");
        var token = _identity.User(Now, sub, ["finance-staff"]);
        return await Problem.SendAsync(finance, HttpMethod.Get, path, token,
            device is null ? null : r => r.Headers.Add("X-Device-Posture", _devices.Posture(Now, device, "finance", user: sub)));
    }

    [Fact]
    public async Task QuarantinedPrincipal_IsRefusedOnTheNextRequest_UntilReleased()
    {
        Assert.Equal(HttpStatusCode.OK, (await Finance("alice")).Status);

        var (status, body) = await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/alice", Admin(),
            """{"for":"2h","reason":"phishing investigation"}""");
        Assert.Equal(200, status);
        Assert.Contains("phishing investigation", body, StringComparison.Ordinal);

        var refused = await Finance("alice");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("principal-quarantined", refused.Reason);
        Assert.Equal(HttpStatusCode.OK, (await Finance("bob")).Status);

        var (listed, list) = await _gateway.AdminAsync(HttpMethod.Get, "/admin/quarantine", Admin());
        Assert.Equal(200, listed);
        using (var json = JsonDocument.Parse(list))
        {
            var entry = Assert.Single(json.RootElement.GetProperty("principals").EnumerateArray());
            Assert.Equal("alice", entry.GetProperty("id").GetString());
            var hold = Assert.Single(entry.GetProperty("holds").EnumerateArray());
            Assert.Equal("admin", hold.GetProperty("origin").GetString());
            Assert.Equal("root", hold.GetProperty("actor").GetString());
        }

        Assert.Equal(204, (await _gateway.AdminAsync(HttpMethod.Delete, "/admin/quarantine/principals/alice", Admin())).Status);
        Assert.Equal(HttpStatusCode.OK, (await Finance("alice")).Status);
        Assert.Equal(404, (await _gateway.AdminAsync(HttpMethod.Delete, "/admin/quarantine/principals/alice", Admin())).Status);
    }

    [Fact]
    public async Task Quarantine_LapsesAtItsExpiry()
    {
        Assert.Equal(200, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/alice", Admin(), """{"for":"30m"}""")).Status);
        Assert.Equal("principal-quarantined", (await Finance("alice")).Reason);

        _gateway.Time.Advance(TimeSpan.FromMinutes(31));

        Assert.Equal(HttpStatusCode.OK, (await Finance("alice")).Status);
    }

    [Fact]
    public async Task QuarantinedDevice_IsRefused_WhoeverCarriesIt()
    {
        var until = Now.AddHours(1).ToString("O");
        Assert.Equal(200, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/devices/laptop-7", Admin(), $$"""{"until":"{{until}}"}""")).Status);

        var refused = await Finance("alice", "/vault/1", "laptop-7");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("device-quarantined", refused.Reason);
        Assert.Equal("device-quarantined", (await Finance("bob", "/vault/1", "laptop-7")).Reason);
        Assert.Equal(HttpStatusCode.OK, (await Finance("alice", "/vault/1", "laptop-8")).Status);
    }

    [Fact]
    public async Task QuarantinedWorkload_IsNamedByItsWorkloadId()
    {
        using var hr = _gateway.Client("hr");
        var sync = _identity.Workload(Now, Topology.LedgerSync);
        Assert.Equal(HttpStatusCode.OK, (await Problem.SendAsync(hr, HttpMethod.Get, "/payroll/export", sync)).Status);

        var path = "/admin/quarantine/principals/" + Uri.EscapeDataString(Topology.LedgerSync);
        Assert.Equal(200, (await _gateway.AdminAsync(HttpMethod.Put, path, Admin(), """{"for":"1h"}""")).Status);

        Assert.Equal("principal-quarantined", (await Problem.SendAsync(hr, HttpMethod.Get, "/payroll/export", sync)).Reason);
    }

    [Fact]
    public async Task Quarantine_SurvivesARestart_AndIsAudited()
    {
        Assert.Equal(200, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/alice", Admin(), """{"for":"2h"}""")).Status);

        await _gateway.RestartAsync();

        Assert.Equal("principal-quarantined", (await Finance("alice")).Reason);
        var change = File.ReadAllLines(_gateway.AuditFile).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(l => l.GetProperty("class_uid").GetInt32() == 3004 && !AuditLines.IsPolicyChange(l));
        Assert.Equal(1, change.GetProperty("activity_id").GetInt32());
        Assert.Equal("root", change.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
        Assert.Equal("alice", change.GetProperty("entity").GetProperty("uid").GetString());
        Assert.Equal("admin", change.GetProperty("unmapped").GetProperty("ztgw").GetProperty("origin").GetString());
    }

    [Fact]
    public async Task NonAdmins_CannotQuarantine_OrRelease()
    {
        var user = _identity.User(Now, "alice", ["finance-staff"]);
        Assert.Equal(401, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/bob", null, """{"for":"1h"}""")).Status);
        Assert.Equal(403, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/bob", user, """{"for":"1h"}""")).Status);
        Assert.Equal(403, (await _gateway.AdminAsync(HttpMethod.Get, "/admin/quarantine", user)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Finance("bob")).Status);

        Assert.Equal(200, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/bob", Admin(), """{"for":"1h"}""")).Status);
        Assert.Equal(403, (await _gateway.AdminAsync(HttpMethod.Delete, "/admin/quarantine/principals/bob", user)).Status);
        Assert.Equal("principal-quarantined", (await Finance("bob")).Reason);
    }

    [Fact]
    public async Task RevokedAdmin_IsNoLongerAnAdmin()
    {
        var admin = Admin();
        _gateway.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(202, (await _gateway.PushAsync(_transmitter.UserEvent(Now, "session-revoked", "root"))).Status);

        Assert.Equal(401, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/bob", admin, """{"for":"1h"}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Finance("bob")).Status);
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"for":"soon"}""")]
    [InlineData("""{"for":"1h","until":"2099-01-01T00:00:00Z"}""")]
    [InlineData("""{"until":"2000-01-01T00:00:00Z"}""")]
    [InlineData("""{"for":"1h","color":"red"}""")]
    [InlineData("""not json""")]
    public async Task BadRequests_AreRefused_AndChangeNothing(string body)
    {
        Assert.Equal(400, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/principals/alice", Admin(), body)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Finance("alice")).Status);
    }

    [Fact]
    public async Task UnknownKind_Is404()
    {
        Assert.Equal(404, (await _gateway.AdminAsync(HttpMethod.Put, "/admin/quarantine/planets/mars", Admin(), """{"for":"1h"}""")).Status);
    }
}
