using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using ZtGateway.Sources.Continuous;
using ZtGateway.Sources.Signals;

namespace ZtGateway.Tests.Signals;

public sealed class CaepEventParserTests : IDisposable
{
    private static readonly DateTimeOffset Iat = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private readonly SetMinter _minter = new();

    public void Dispose() => _minter.Dispose();

    private (IReadOnlyList<SignalEvent> Events, string? Problem) Parse(string eventName, string eventJson, string? subId = null)
    {
        var events = new Dictionary<string, object> { [SetMinter.Prefix + eventName] = JsonSerializer.Deserialize<JsonElement>(eventJson) };
        var extra = subId is null ? null : new Dictionary<string, object> { ["sub_id"] = JsonSerializer.Deserialize<JsonElement>(subId) };
        return CaepEventParser.Parse(new JsonWebToken(_minter.Mint(Iat, events, extra)), Iat);
    }

    [Theory]
    [InlineData("session-revoked", nameof(SignalAction.Revoke))]
    [InlineData("credential-change", nameof(SignalAction.Revoke))]
    [InlineData("assurance-level-change", nameof(SignalAction.StepUp))]
    public void UserEvents_NameTheUserByIssuerAndSubject(string eventName, string action)
    {
        var (events, problem) = Parse(eventName, """{"subject":{"format":"iss_sub","iss":"https://idp.test","sub":"alice"},"event_timestamp":1799999990}""");

        Assert.Null(problem);
        var signal = Assert.Single(events);
        Assert.Equal(Enum.Parse<SignalAction>(action), signal.Action);
        Assert.Equal(new SubjectKey("https://idp.test", "alice"), signal.User);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_799_999_990), signal.At);
        Assert.Equal(eventName, signal.Name);
    }

    [Fact]
    public void ComplexSubject_UserMember_IsTheUser()
    {
        var (events, problem) = Parse("session-revoked",
            """{"subject":{"format":"complex","user":{"format":"iss_sub","iss":"https://idp.test","sub":"alice"},"session":{"format":"opaque","id":"s1"}}}""");

        Assert.Null(problem);
        var signal = Assert.Single(events);
        Assert.Equal("alice", signal.User!.Value.Subject);
        Assert.Equal((SignalAction.RevokeSession, "s1"), (signal.Action, signal.Session));
    }

    [Theory]
    [InlineData("""{"format":"opaque"}""")]
    [InlineData("""{"format":"email","email":"alice@example.com"}""")]
    [InlineData("\"s1\"")]
    public void ComplexSubject_WithASessionThatCannotBeRead_IsRefused(string session)
    {
        var (events, problem) = Parse("credential-change",
            $$$"""{"subject":{"format":"complex","user":{"format":"iss_sub","iss":"https://idp.test","sub":"alice"},"session":{{{session}}}}}""");

        Assert.Empty(events);
        Assert.Contains("session", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void SubjectOfTheSet_IsUsed_WhenTheEventHasNone()
    {
        var (events, problem) = Parse("session-revoked", "{}", subId: """{"format":"iss_sub","iss":"https://idp.test","sub":"bob"}""");

        Assert.Null(problem);
        Assert.Equal("bob", Assert.Single(events).User!.Value.Subject);
        Assert.Equal(Iat, events[0].At);
    }

    [Theory]
    [InlineData("""{"subject":{"format":"opaque","id":"laptop-7"},"current_status":"not-compliant"}""", nameof(SignalAction.QuarantineDevice))]
    [InlineData("""{"subject":{"format":"opaque","id":"laptop-7"},"current_status":"compliant"}""", nameof(SignalAction.ReleaseDevice))]
    [InlineData("""{"subject":{"format":"complex","device":{"format":"opaque","id":"laptop-7"}},"current_status":"not-compliant"}""", nameof(SignalAction.QuarantineDevice))]
    public void DeviceComplianceChange_NamesTheDevice(string json, string action)
    {
        var (events, problem) = Parse("device-compliance-change", json);

        Assert.Null(problem);
        Assert.Equal(Enum.Parse<SignalAction>(action), Assert.Single(events).Action);
        Assert.Equal("laptop-7", events[0].Device);
    }

    [Fact]
    public void AssuranceIncrease_AsksNothing()
    {
        var (events, problem) = Parse("assurance-level-change",
            """{"subject":{"format":"iss_sub","iss":"https://idp.test","sub":"alice"},"change_direction":"increase"}""");

        Assert.Null(problem);
        Assert.Equal(SignalAction.None, Assert.Single(events).Action);
    }

    [Fact]
    public void UnknownEventType_IsAcknowledgedWithoutAction()
    {
        var (events, problem) = Parse("token-claims-change", """{"subject":{"format":"iss_sub","iss":"https://idp.test","sub":"alice"}}""");

        Assert.Null(problem);
        Assert.Equal(SignalAction.None, Assert.Single(events).Action);
    }

    [Theory]
    [InlineData("session-revoked", """{"subject":{"format":"opaque","id":"laptop-7"}}""")]
    [InlineData("session-revoked", """{"subject":{"format":"iss_sub","iss":"https://idp.test"}}""")]
    [InlineData("session-revoked", """{"subject":{"format":"email","email":"alice@example.com"}}""")]
    [InlineData("session-revoked", """{}""")]
    [InlineData("session-revoked", """{"subject":{"format":"iss_sub","iss":"https://idp.test","sub":"alice"},"event_timestamp":"yesterday"}""")]
    [InlineData("session-revoked", "\"not an object\"")]
    [InlineData("device-compliance-change", """{"subject":{"format":"opaque","id":"laptop-7"}}""")]
    [InlineData("device-compliance-change", """{"subject":{"format":"opaque","id":"laptop-7"},"current_status":"so-so"}""")]
    [InlineData("device-compliance-change", """{"subject":{"format":"iss_sub","iss":"https://idp.test","sub":"alice"},"current_status":"compliant"}""")]
    public void NonConformingEvent_IsAProblem(string eventName, string json)
    {
        var (events, problem) = Parse(eventName, json);

        Assert.NotNull(problem);
        Assert.Empty(events);
    }

    [Fact]
    public void SetWithoutEvents_IsAProblem()
    {
        var token = new JsonWebToken(_minter.Mint(Iat, events: []));

        Assert.NotNull(CaepEventParser.Parse(token, Iat).Problem);
    }
}
