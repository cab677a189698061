using Microsoft.AspNetCore.DataProtection;
using ZtGateway.Policy.Engine;
using ZtGateway.Sources.Identity.Sessions;

namespace ZtGateway.Tests.Identity.Sessions;

/// <summary>
/// Sessions sealed with a real Data Protection key ring (keys in a temporary folder): they open at their own segment
/// only, a changed byte does not open, an ended session is expired, and what opens is the principal that was sealed.
/// </summary>
public sealed class SessionProtectorTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 9, 0, 0, TimeSpan.Zero);

    private readonly DirectoryInfo _keys = Directory.CreateTempSubdirectory("ztgw-session-keys-");
    private readonly IDataProtectionProvider _provider;

    public SessionProtectorTests()
    {
        _provider = DataProtectionProvider.Create(_keys, builder => builder.SetApplicationName("ztgw"));
    }

    public void Dispose() => _keys.Delete(recursive: true);

    private static BrowserSession Session(string segment, DateTimeOffset? expires = null) => new()
    {
        Segment = segment,
        IssuerName = "corp",
        Principal = new Principal
        {
            Kind = PrincipalKind.User,
            Subject = "alice",
            Issuer = "https://idp.example",
            Groups = ["finance", "staff"],
            Roles = ["approver"],
            Amr = ["pwd", "mfa"],
            Acr = "urn:example:acr:mfa",
            AuthTime = Now.AddMinutes(-1),
            IssuedAt = Now.AddMinutes(-1),
            SessionId = "sid-1",
        },
        Created = Now,
        Expires = expires ?? Now.AddHours(8),
        SteppedUpAt = Now,
    };

    [Fact]
    public void A_sealed_session_opens_at_its_segment_with_the_principal_that_was_sealed()
    {
        var protector = new SessionProtector(_provider, "finance");
        var sealedSession = protector.Seal(Session("finance"));

        var read = protector.Open(sealedSession, Now.AddMinutes(5));

        Assert.Equal(TokenStatus.Valid, read.Outcome.Status);
        var principal = read.Outcome.Principal!;
        Assert.Equal(PrincipalKind.User, principal.Kind);
        Assert.Equal("alice", principal.Subject);
        Assert.Equal("https://idp.example", principal.Issuer);
        Assert.Equal(["finance", "staff"], principal.Groups);
        Assert.Equal(["approver"], principal.Roles);
        Assert.Equal(["pwd", "mfa"], principal.Amr);
        Assert.Equal("urn:example:acr:mfa", principal.Acr);
        Assert.Equal(Now.AddMinutes(-1), principal.AuthTime);
        Assert.Equal("sid-1", principal.SessionId);
        Assert.Equal("corp", read.Outcome.IssuerName);
        Assert.Equal(Now, read.Session!.SteppedUpAt);
        Assert.DoesNotContain("alice", sealedSession, StringComparison.Ordinal);
    }

    [Fact]
    public void A_session_of_one_segment_does_not_open_at_another()
    {
        var sealedSession = new SessionProtector(_provider, "finance").Seal(Session("finance"));

        var read = new SessionProtector(_provider, "hr").Open(sealedSession, Now);

        Assert.Equal(TokenStatus.Invalid, read.Outcome.Status);
        Assert.Null(read.Outcome.Principal);
        Assert.False(read.Outcome.Transient);
    }

    [Fact]
    public void A_changed_character_anywhere_does_not_open()
    {
        var protector = new SessionProtector(_provider, "finance");
        var sealedSession = protector.Seal(Session("finance"));
        foreach (var position in new[] { 0, sealedSession.Length / 2, sealedSession.Length - 2 })
        {
            var chars = sealedSession.ToCharArray();
            chars[position] = chars[position] == 'A' ? 'B' : 'A';
            Assert.Equal(TokenStatus.Invalid, protector.Open(new string(chars), Now).Outcome.Status);
        }
    }

    [Fact]
    public void A_key_ring_of_another_deployment_does_not_open_it()
    {
        var sealedSession = new SessionProtector(_provider, "finance").Seal(Session("finance"));
        var other = Directory.CreateTempSubdirectory("ztgw-other-keys-");
        try
        {
            var foreign = DataProtectionProvider.Create(other, builder => builder.SetApplicationName("ztgw"));
            Assert.Equal(TokenStatus.Invalid, new SessionProtector(foreign, "finance").Open(sealedSession, Now).Outcome.Status);
        }
        finally
        {
            other.Delete(recursive: true);
        }
    }

    [Fact]
    public void An_ended_session_is_expired_and_junk_is_invalid()
    {
        var protector = new SessionProtector(_provider, "finance");
        var sealedSession = protector.Seal(Session("finance", expires: Now.AddMinutes(10)));

        Assert.Equal(TokenStatus.Expired, protector.Open(sealedSession, Now.AddMinutes(10)).Outcome.Status);
        Assert.Equal(TokenStatus.Invalid, protector.Open("not-a-session", Now).Outcome.Status);
        Assert.Equal(TokenStatus.Invalid, protector.Open(string.Empty, Now).Outcome.Status);
        Assert.Equal(TokenStatus.Invalid, protector.Open(new string('A', SessionProtector.MaxSealedLength + 1), Now).Outcome.Status);
    }

    [Fact]
    public void Sealing_a_session_of_another_segment_is_refused()
    {
        var protector = new SessionProtector(_provider, "finance");
        Assert.Throws<ArgumentException>(() => protector.Seal(Session("hr")));
    }
}
