using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ZtGateway.Sources.Signals;

namespace ZtGateway.Tests.Signals;

/// <summary>
/// Events that do not conform are a problem reported, never an exception. Found by fuzz/ target set: a byte that is
/// not UTF-8 in a member name threw InvalidOperationException when the name was read, and an empty event type was
/// taken as an event.
/// </summary>
public sealed class CaepEventParserMalformedTests
{
    private static readonly DateTimeOffset Iat = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    [Fact]
    public void Refuses_APayloadThatIsNotUtf8()
    {
        // "other-e\x80ent": the byte 0x80 alone is no UTF-8.
        var claims = Encoding.UTF8.GetBytes("""{"iss":"https://edr.test","iat":1800000000,"jti":"j","events":{"https://example.com/other-eXent":{}}}""");
        claims[Array.IndexOf(claims, (byte)'X')] = 0x80;

        var (events, problem) = CaepEventParser.Parse(Token(claims), Iat);

        Assert.Empty(events);
        Assert.Equal("the payload is not UTF-8", problem);
    }

    [Fact]
    public void Refuses_AnEmptyEventType()
    {
        var claims = Encoding.UTF8.GetBytes("""{"iss":"https://edr.test","iat":1800000000,"jti":"j","events":{"":{}}}""");

        var (events, problem) = CaepEventParser.Parse(Token(claims), Iat);

        Assert.Empty(events);
        Assert.Equal("an event type must be a URI, not empty", problem);
    }

    [Fact]
    public void StillAcknowledges_AnUnknownEventType()
    {
        var claims = Encoding.UTF8.GetBytes("""{"iss":"https://edr.test","iat":1800000000,"jti":"j","events":{"https://example.com/other-event":{}}}""");

        var (events, problem) = CaepEventParser.Parse(Token(claims), Iat);

        Assert.Null(problem);
        Assert.Equal(SignalAction.None, Assert.Single(events).Action);
    }

    private static JsonWebToken Token(byte[] claims) =>
        new(Base64UrlEncoder.Encode("""{"alg":"ES256","typ":"secevent+jwt"}""") + "." + Base64UrlEncoder.Encode(claims) + ".c2ln");
}
