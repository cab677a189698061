using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary>
/// <c>audit.sinks</c>: the strings (<c>stdout</c>, <c>file:PATH</c>) as before, and <c>type: otlp</c> mappings with
/// their defaults, every error at its line, and header values that no message or printout shows.
/// </summary>
public sealed class AuditSinksLoaderTests
{
    private const string Jwks = """{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}""";
    private const string SigningKey = "-----BEGIN PRIVATE KEY-----\nMIG\n-----END PRIVATE KEY-----\n";

    [Fact]
    public void Strings_StillWork_AndNoOtlpSinkIsMade()
    {
        using var folder = Folder("audit:\n  sinks: [stdout, file:logs/a.jsonl]\n");

        var audit = Load(folder);

        Assert.Equal(["stdout", "file:" + folder.PathOf("logs/a.jsonl")], audit.Sinks);
        Assert.Empty(audit.OtlpSinks);
    }

    [Fact]
    public void AnOtlpMapping_TakesItsDefaults()
    {
        using var folder = Folder("""
            audit:
              sinks:
                - file:audit/decisions.jsonl
                - type: otlp
                  endpoint: http://127.0.0.1:4318
            """);

        var audit = Load(folder);

        Assert.Equal(["file:" + folder.PathOf("audit/decisions.jsonl")], audit.Sinks);
        var sink = Assert.Single(audit.OtlpSinks);
        Assert.Equal("http://127.0.0.1:4318", sink.Endpoint);
        Assert.Equal("http/protobuf", sink.Protocol);
        Assert.Empty(sink.Headers);
        Assert.Null(sink.CaFile);
        Assert.Equal(10_000, sink.MaxQueue);
        Assert.Equal("otlp:http://127.0.0.1:4318", sink.Name);
    }

    [Fact]
    public void AnOtlpMapping_ReadsEveryKey()
    {
        using var folder = Folder("""
            audit:
              sinks:
                - stdout
                - type: otlp
                  endpoint: https://collector.corp:4317
                  protocol: grpc
                  headers: { x-api-key: "k=v,w%41", X-Tenant: finance }
                  ca: certs/collector-ca.pem
                  maxQueue: 500
            """);

        var sink = Assert.Single(Load(folder).OtlpSinks);

        Assert.Equal("https://collector.corp:4317", sink.Endpoint);
        Assert.Equal("grpc", sink.Protocol);
        Assert.Equal("k=v,w%41", sink.Headers["x-api-key"]);
        Assert.Equal("finance", sink.Headers["x-tenant"]);
        Assert.Equal(folder.PathOf("certs/collector-ca.pem"), sink.CaFile);
        Assert.Equal(500, sink.MaxQueue);
    }

    [Fact]
    public void HeaderValues_AreNeverPrinted()
    {
        using var folder = Folder("""
            audit:
              sinks:
                - stdout
                - type: otlp
                  endpoint: http://127.0.0.1:4318
                  headers: { x-api-key: hunter2 }
            """);

        var audit = Load(folder);

        Assert.DoesNotContain("hunter2", audit.OtlpSinks[0].ToString(), StringComparison.Ordinal);
        Assert.Contains("x-api-key=*****", audit.OtlpSinks[0].ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", audit.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyOtlpSinks_LoadsWithAWarning()
    {
        using var folder = Folder("audit:\n  sinks:\n    - { type: otlp, endpoint: \"http://127.0.0.1:4318\" }\n");

        var result = folder.Load();

        Assert.True(result.Succeeded, folder.FormatAll(result));
        Assert.Equal(
            "gateway.yaml:3:5: warning: 'audit.sinks' has only otlp sinks: a record the collector does not take is lost; add stdout or file:PATH to keep every line",
            folder.FormatAll(result));
        Assert.Empty(result.Policy!.Gateway.Audit.Sinks);
    }

    public static TheoryData<string, string> Errors => new()
    {
        { "- { endpoint: \"http://c:4318\" }", "gateway.yaml:3:7: error: missing required key 'type' in audit sink 'otlp:http://c:4318'" },
        { "- { type: syslog, endpoint: \"http://c:4318\" }", "gateway.yaml:3:15: error: audit sink 'otlp:http://c:4318': 'type' must be otlp, not 'syslog'" },
        { "- { type: otlp }", "gateway.yaml:3:7: error: missing required key 'endpoint' in audit.sinks entry 1" },
        { "- { type: otlp, endpoint: \"ftp://c\" }", "gateway.yaml:3:31: error: audit.sinks entry 1: 'endpoint' must be an absolute http or https URL, not 'ftp://c'" },
        { "- { type: otlp, endpoint: collector:4318 }", "gateway.yaml:3:31: error: audit.sinks entry 1: 'endpoint' must be an absolute http or https URL, not 'collector:4318'" },
        { "- { type: otlp, endpoint: \"http://user:secret@c:4318\" }", "gateway.yaml:3:31: error: audit.sinks entry 1: 'endpoint' must not hold a user name or password; send credentials in 'headers'" },
        { "- { type: otlp, endpoint: \"http://c:4318/?a=b\" }", "gateway.yaml:3:31: error: audit sink 'otlp:http://c:4318/?a=b': 'endpoint' must not have a query or a fragment, not 'http://c:4318/?a=b'" },
        { "- { type: otlp, endpoint: \"http://c:4318\", protocol: http/json }", "gateway.yaml:3:58: error: audit sink 'otlp:http://c:4318': 'protocol' must be grpc or http/protobuf, not 'http/json'" },
        { "- { type: otlp, endpoint: \"http://c:4318\", batch: 5 }", "gateway.yaml:3:48: error: unknown key 'batch' in audit sink 'otlp:http://c:4318'" },
        { "- { type: otlp, endpoint: \"http://c:4318\", maxQueue: 0 }", "gateway.yaml:3:58: error: audit sink 'otlp:http://c:4318': 'maxQueue' must be a positive whole number, not '0'" },
        { "- { type: otlp, endpoint: \"http://c:4318\", maxQueue: 2000000 }", "gateway.yaml:3:58: error: audit sink 'otlp:http://c:4318': 'maxQueue' must be at most 1000000, not '2000000'" },
        { "- { type: otlp, endpoint: \"http://c:4318\", ca: ca.pem }", "gateway.yaml:3:52: error: audit sink 'otlp:http://c:4318': 'ca' verifies an https endpoint; this endpoint is plain http" },
        { "- { type: otlp, endpoint: \"http://c:4318\", headers: [a] }", "gateway.yaml:3:57: error: audit sink 'otlp:http://c:4318': 'headers' must be a mapping, not a list" },
        { "- { type: otlp, endpoint: \"http://c:4318\", headers: { \"x key\": v } }", "gateway.yaml:3:59: error: audit sink 'otlp:http://c:4318': 'headers' name 'x key' is not an HTTP header name" },
        { "- { type: otlp, endpoint: \"http://c:4318\", headers: { Content-Type: text/plain } }", "gateway.yaml:3:59: error: audit sink 'otlp:http://c:4318': 'headers' must not set 'Content-Type': the exporter or the connection sets it" },
        { "- { type: otlp, endpoint: \"http://c:4318\", headers: { X-Key: a, x-key: b } }", "gateway.yaml:3:69: error: audit sink 'otlp:http://c:4318': 'headers' names 'x-key' twice (header names ignore case; first at line 3)" },
        { "- { type: otlp, endpoint: \"http://c:4318\", headers: { x-key: } }", "gateway.yaml:3:59: error: audit sink 'otlp:http://c:4318': missing value for header 'x-key'" },
        { "- { type: otlp, endpoint: \"http://c:4318\", headers: { x-key: \"\" } }", "gateway.yaml:3:66: error: audit sink 'otlp:http://c:4318': 'headers.x-key' must not be empty" },
        { "- { type: otlp, endpoint: \"http://c:4318\", headers: { x-key: \"se\\ncret\" } }", "gateway.yaml:3:66: error: audit sink 'otlp:http://c:4318': 'headers.x-key' must be printable ASCII (no line breaks or control characters)" },
        { "- [stdout]", "gateway.yaml:3:7: error: each entry of 'audit.sinks' must be stdout, file:PATH or a mapping with 'type', not a list" },
        { "- stdout\n    - ~", "gateway.yaml:4:7: error: 'audit.sinks' has an empty entry" },
        { "- syslog", "gateway.yaml:3:7: error: audit sink 'syslog' must be stdout or file:PATH" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Rejects_WithTheLineOfTheBadValue(string sinks, string expected)
    {
        using var folder = Folder("audit:\n  sinks:\n    " + sinks + "\n");

        var result = folder.Load();

        Assert.Null(result.Policy);
        Assert.Equal(expected, folder.FormatAll(result));
    }

    [Fact]
    public void EveryBadKeyOfOneSink_IsReported()
    {
        using var folder = Folder("""
            audit:
              sinks:
                - type: otlp
                  endpoint: "ftp://c"
                  protocol: udp
                  maxQueue: lots
                  colour: blue
            """);

        var errors = folder.Format(folder.Load());

        Assert.Equal(
        [
            "gateway.yaml:4:17: error: audit.sinks entry 1: 'endpoint' must be an absolute http or https URL, not 'ftp://c'",
            "gateway.yaml:5:17: error: audit.sinks entry 1: 'protocol' must be grpc or http/protobuf, not 'udp'",
            "gateway.yaml:6:17: error: audit.sinks entry 1: 'maxQueue' must be a positive whole number, not 'lots'",
            "gateway.yaml:7:7: error: unknown key 'colour' in audit.sinks entry 1",
        ], errors);
    }

    [Fact]
    public void ABadHeaderValue_IsNeverEchoed()
    {
        using var folder = Folder("audit:\n  sinks:\n    - { type: otlp, endpoint: \"http://c:4318\", headers: { x-key: \"hunter2\\u0007\" } }\n");

        var text = folder.FormatAll(folder.Load());

        Assert.Contains("'headers.x-key' must be printable ASCII", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCaFile_IsCheckedLikeAKeyFile_AtItsLine()
    {
        using var folder = KeyedFolder("audit:\n  sinks:\n    - stdout\n    - type: otlp\n      endpoint: https://c:4318\n      ca: certs/ca.pem\n");

        var missing = folder.LoadWithKeyFiles();
        Assert.Equal("gateway.yaml:6:11: error: audit sink 'otlp:https://c:4318': ca 'certs/ca.pem' does not exist", folder.FormatAll(missing));

        folder.Write("certs/ca.pem", "not a certificate");
        Assert.Equal(
            "gateway.yaml:6:11: error: audit sink 'otlp:https://c:4318': ca 'certs/ca.pem' holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            folder.FormatAll(folder.LoadWithKeyFiles()));

        folder.Write("certs/ca.pem", SelfSignedPem());
        var loaded = folder.LoadWithKeyFiles();
        Assert.True(loaded.Succeeded, folder.FormatAll(loaded));
        Assert.Equal(folder.PathOf("certs/ca.pem"), loaded.Policy!.Gateway.Audit.OtlpSinks[0].CaFile);
    }

    private static string SelfSignedPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=test collector CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem();
    }

    private static PolicyFolder Folder(string audit) =>
        PolicySamples.Minimal().Write("gateway.yaml", audit.TrimEnd('\n') + "\n" + PolicySamples.MinimalGateway);

    private static PolicyFolder KeyedFolder(string audit) =>
        Folder(audit).Write("keys/idp.jwks.json", Jwks).Write("keys/gateway-signing.pem", SigningKey);

    private static AuditSettings Load(PolicyFolder folder)
    {
        var result = folder.Load();
        Assert.True(result.Succeeded, folder.FormatAll(result));
        Assert.Empty(result.Diagnostics);
        return result.Policy!.Gateway.Audit;
    }
}
