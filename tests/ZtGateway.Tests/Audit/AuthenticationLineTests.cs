using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Audit;
using ZtGateway.Tests.Audit.Ocsf;

namespace ZtGateway.Tests.Audit;

/// <summary>
/// The Authentication line (OCSF 3002) of a browser sign-in, a refused sign-in callback and a sign-out, byte for byte
/// and valid against the vendored OCSF 1.8.0 schema (docs/design.md section 6.2).
/// </summary>
public sealed class AuthenticationLineTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private static AuthenticationEvent SignIn(bool stepUp = false, string[]? amr = null) => new()
    {
        Id = "0192f0a0-0000-7000-8000-000000000020",
        Time = Now,
        Kind = AuthenticationKind.SignIn,
        Segment = "finance",
        IssuerName = "corp",
        Subject = "alice",
        UserName = "alice@corp.example",
        Issuer = "https://idp.test",
        SessionId = "sid-1",
        SessionCreated = Now,
        SessionExpires = Now.AddHours(1),
        Amr = amr ?? ["pwd"],
        StepUp = stepUp,
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        SpanId = "b7ad6b7169203331",
        ClientAddress = IPAddress.Parse("10.10.1.2"),
        ListenerAddress = IPAddress.Parse("10.10.0.1"),
        ListenerPort = 8443,
        Method = "GET",
        Path = "/.ztgw/callback",
    };

    private static AuthenticationEvent Refused(string? subject = null, string failure = "Correlation failed.", string method = "GET") => new()
    {
        Id = "0192f0a0-0000-7000-8000-000000000021",
        Time = Now,
        Kind = AuthenticationKind.SignInRefused,
        Segment = "finance",
        IssuerName = "corp",
        Subject = subject,
        StepUp = subject is null ? null : true,
        Reason = "token-invalid",
        Failure = failure,
        DecisionId = "0192f0a0-0000-7000-8000-000000000001",
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        ClientAddress = IPAddress.Parse("10.10.1.2"),
        Method = method,
        Path = "/.ztgw/callback",
    };

    private static AuthenticationEvent SignOut(string? traceId = null) => new()
    {
        Id = "0192f0a0-0000-7000-8000-000000000022",
        Time = Now.AddMinutes(5),
        Kind = AuthenticationKind.SignOut,
        Segment = "finance",
        IssuerName = "corp",
        Subject = "alice",
        Issuer = "https://idp.test",
        SessionId = "ztgw:0123456789abcdef0123456789abcdef",
        SessionCreated = Now,
        SessionExpires = Now.AddHours(1),
        Amr = ["pwd", "mfa"],
        Reason = "sign-out",
        TraceId = traceId,
        ClientAddress = IPAddress.Parse("10.10.1.2"),
        ListenerAddress = IPAddress.Parse("10.10.0.1"),
        ListenerPort = 8443,
        Method = "POST",
        Path = "/.ztgw/sign-out",
    };

    private static string Valid(AuthenticationEvent e)
    {
        var line = OcsfWriter.Authentication(e);
        var violations = OcsfSchema.Vendored.Validate(line);
        Assert.True(violations.Count == 0, Encoding.UTF8.GetString(line) + "\n" + string.Join('\n', violations));
        Assert.Equal((byte)'\n', line[^1]);
        Assert.DoesNotContain((byte)'\n', line[..^1]);
        return Encoding.UTF8.GetString(line[..^1]);
    }

    [Fact]
    public void ASignIn_IsAnInformationalLogonSuccess_WithThePersonTheSessionAndTheListener()
    {
        Assert.Equal("""
            {"time":1800000000000,"class_uid":3002,"class_name":"Authentication","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":1,"activity_name":"Logon","type_uid":300201,"severity_id":1,"severity":"Informational","status_id":1,"status":"Success","message":"alice signed in at corp on segment finance","metadata":{"uid":"0192f0a0-0000-7000-8000-000000000020","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"auth_protocol_id":4,"auth_protocol":"OpenID","is_mfa":false,"user":{"uid":"alice","name":"alice@corp.example","type_id":1,"type":"User"},"session":{"uid":"sid-1","issuer":"https://idp.test","created_time":1800000000000,"expiration_time":1800003600000},"service":{"name":"finance"},"src_endpoint":{"ip":"10.10.1.2"},"dst_endpoint":{"svc_name":"finance","ip":"10.10.0.1","port":8443},"http_request":{"http_method":"GET","url":{"path":"/.ztgw/callback"}},"observables":[{"name":"user.uid","type_id":31,"value":"alice"},{"name":"src_endpoint.ip","type_id":2,"value":"10.10.1.2"}],"unmapped":{"ztgw":{"segment":"finance","issuer":"corp","step_up":false,"trace_id":"0af7651916cd43dd8448eb211c80319c"}}}
            """, Valid(SignIn()));
    }

    [Theory]
    [InlineData(new[] { "pwd", "otp", "mfa" }, true)]
    [InlineData(new[] { "pwd" }, false)]
    public void IsMfa_FollowsTheSessionsAmr(string[] amr, bool mfa)
    {
        using var json = JsonDocument.Parse(Valid(SignIn(stepUp: true, amr: amr)));
        var root = json.RootElement;
        Assert.Equal(mfa, root.GetProperty("is_mfa").GetBoolean());
        Assert.True(root.GetProperty("unmapped").GetProperty("ztgw").GetProperty("step_up").GetBoolean());
        Assert.Equal("alice signed in at corp on segment finance (step-up)", root.GetProperty("message").GetString());
    }

    [Fact]
    public void ASessionWithoutAmr_SaysNothingOfMfa_AndOneWithoutListenerOrAddress_LeavesThemOut()
    {
        using var json = JsonDocument.Parse(Valid(SignIn(amr: []) with { ClientAddress = null, ListenerAddress = null, ListenerPort = null, UserName = null }));
        var root = json.RootElement;
        Assert.False(root.TryGetProperty("is_mfa", out _));
        Assert.False(root.TryGetProperty("src_endpoint", out _));
        Assert.Equal("""{"svc_name":"finance"}""", root.GetProperty("dst_endpoint").GetRawText());
        Assert.Equal("""{"uid":"alice","type_id":1,"type":"User"}""", root.GetProperty("user").GetRawText());
        Assert.Equal("""[{"name":"user.uid","type_id":31,"value":"alice"}]""", root.GetProperty("observables").GetRawText());
    }

    [Fact]
    public void ARefusedCallbackThatNamesNobody_IsAMediumLogonFailure_WithTheReasonAndTheDecision()
    {
        Assert.Equal("""
            {"time":1800000000000,"class_uid":3002,"class_name":"Authentication","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":1,"activity_name":"Logon","type_uid":300201,"severity_id":3,"severity":"Medium","status_id":2,"status":"Failure","status_detail":"Correlation failed.","message":"a sign-in callback on segment finance was refused: Correlation failed.","metadata":{"uid":"0192f0a0-0000-7000-8000-000000000021","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"auth_protocol_id":4,"auth_protocol":"OpenID","user":{"name":"(unknown)","type_id":0,"type":"Unknown"},"service":{"name":"finance"},"src_endpoint":{"ip":"10.10.1.2"},"dst_endpoint":{"svc_name":"finance"},"http_request":{"http_method":"GET","url":{"path":"/.ztgw/callback"}},"observables":[{"name":"src_endpoint.ip","type_id":2,"value":"10.10.1.2"}],"unmapped":{"ztgw":{"segment":"finance","issuer":"corp","reason":"token-invalid","detail":"Correlation failed.","decision_id":"0192f0a0-0000-7000-8000-000000000001","trace_id":"0af7651916cd43dd8448eb211c80319c"}}}
            """, Valid(Refused()));
    }

    [Fact]
    public void ARefusedCallbackWhoseIdTokenNamedSomeone_IsThatPersonsFailedLogon()
    {
        using var json = JsonDocument.Parse(Valid(Refused(subject: "alice", failure: "ID token refused: audience") with { UserName = "alice@corp.example" }));
        var root = json.RootElement;
        Assert.Equal("""{"uid":"alice","name":"alice@corp.example","type_id":1,"type":"User"}""", root.GetProperty("user").GetRawText());
        Assert.Equal("ID token refused: audience", root.GetProperty("status_detail").GetString());
        Assert.False(root.TryGetProperty("session", out _));
        Assert.False(root.TryGetProperty("is_mfa", out _));
        Assert.True(root.GetProperty("unmapped").GetProperty("ztgw").GetProperty("step_up").GetBoolean());
        Assert.Equal("user.uid", root.GetProperty("observables")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void ALongFailure_IsCut_AndAMethodOutsideTheEnum_GoesToUnmapped()
    {
        var failure = "Message contains error: 'access_denied', error_description: '" + new string('x', 5000) + "'";
        using var json = JsonDocument.Parse(Valid(Refused(failure: failure, method: "PROPFIND")));
        var root = json.RootElement;
        var detail = root.GetProperty("status_detail").GetString()!;
        Assert.Equal(OcsfWriter.MaxAuthenticationDetail, detail.Length);
        Assert.Equal(failure[..(OcsfWriter.MaxAuthenticationDetail - 3)] + "...", detail);
        Assert.Equal(detail, root.GetProperty("unmapped").GetProperty("ztgw").GetProperty("detail").GetString());
        Assert.Equal("""{"url":{"path":"/.ztgw/callback"}}""", root.GetProperty("http_request").GetRawText());
        Assert.Equal("PROPFIND", root.GetProperty("unmapped").GetProperty("ztgw").GetProperty("method").GetString());
    }

    [Fact]
    public void ASignOut_IsAnInformationalLogoff_OfTheSession()
    {
        Assert.Equal("""
            {"time":1800000300000,"class_uid":3002,"class_name":"Authentication","category_uid":3,"category_name":"Identity \u0026 Access Management","activity_id":2,"activity_name":"Logoff","type_uid":300202,"severity_id":1,"severity":"Informational","status_id":1,"status":"Success","message":"alice signed out of segment finance","metadata":{"uid":"0192f0a0-0000-7000-8000-000000000022","version":"1.8.0","profiles":["host"],"product":{"name":"ZtGateway","vendor_name":"ZtGateway"}},"auth_protocol_id":4,"auth_protocol":"OpenID","user":{"uid":"alice","type_id":1,"type":"User"},"session":{"uid":"ztgw:0123456789abcdef0123456789abcdef","issuer":"https://idp.test","created_time":1800000000000,"expiration_time":1800003600000},"service":{"name":"finance"},"src_endpoint":{"ip":"10.10.1.2"},"dst_endpoint":{"svc_name":"finance","ip":"10.10.0.1","port":8443},"http_request":{"http_method":"POST","url":{"path":"/.ztgw/sign-out"}},"observables":[{"name":"user.uid","type_id":31,"value":"alice"},{"name":"src_endpoint.ip","type_id":2,"value":"10.10.1.2"}],"unmapped":{"ztgw":{"segment":"finance","issuer":"corp","reason":"sign-out"}}}
            """, Valid(SignOut()));
    }

    [Fact]
    public void AuditTrail_WritesTheLine_ToEverySink_AndSaysWhatItIs()
    {
        var first = new Sink();
        var second = new Sink();
        using var trail = new AuditTrail([first, second], auditAllows: false, NullLogger.Instance);

        trail.RecordAuthentication(SignIn());
        trail.RecordAuthentication(Refused());
        trail.RecordAuthentication(SignOut(traceId: string.Empty));

        Assert.Equal([OcsfWriter.Authentication(SignIn()), OcsfWriter.Authentication(Refused()), OcsfWriter.Authentication(SignOut(traceId: string.Empty))],
            first.Lines);
        Assert.Equal(first.Lines, second.Lines);
        Assert.Equal(
        [
            new AuditLineInfo("0192f0a0-0000-7000-8000-000000000020", 3002, null, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", Notable: false),
            new AuditLineInfo("0192f0a0-0000-7000-8000-000000000021", 3002, "0192f0a0-0000-7000-8000-000000000001", "0af7651916cd43dd8448eb211c80319c",
                null, Notable: true),
            new AuditLineInfo("0192f0a0-0000-7000-8000-000000000022", 3002, null, null, null, Notable: false),
        ], first.Infos);
    }

    private sealed class Sink : IAuditSink
    {
        public List<byte[]> Lines { get; } = [];

        public List<AuditLineInfo> Infos { get; } = [];

        public string Name => "test";

        public void Write(ReadOnlySpan<byte> line) => Lines.Add(line.ToArray());

        public void Write(ReadOnlySpan<byte> line, in AuditLineInfo info)
        {
            Lines.Add(line.ToArray());
            Infos.Add(info);
        }

        public void Dispose()
        {
        }
    }
}
