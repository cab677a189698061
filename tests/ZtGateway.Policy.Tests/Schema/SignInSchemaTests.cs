using Json.Schema;

namespace ZtGateway.Policy.Tests.Schema;

/// <summary>The schemas know <c>signIn</c> (both files), <c>device.certificates</c> and the reserved <c>/.ztgw</c> paths.</summary>
public sealed class SignInSchemaTests
{
    private static readonly Lazy<JsonSchema> Gateway = new(() => Load("gateway.schema.json"));
    private static readonly Lazy<JsonSchema> Segment = new(() => Load("segment.schema.json"));

    private const string Issuers = "identity:\n  issuers: [ { name: corp, type: oidc, authority: https://idp.example, audiences: [z] } ]\n";

    private const string SignIn = "signIn:\n  issuer: corp\n  clientId: ztgw-web\n  clientSecretFile: keys/ztgw-web.secret\n";

    [Theory]
    [InlineData("", true)]
    [InlineData("  scopes: [openid]\n", true)]
    [InlineData("  scopes: [openid, profile, \"api://ztgw/.default\"]\n", true)]
    [InlineData("  sessionLifetime: 8h\n", true)]
    [InlineData("  scopes: [profile]\n", false)]
    [InlineData("  scopes: []\n", false)]
    [InlineData("  scopes: [openid, openid]\n", false)]
    [InlineData("  scopes: [\"openid profile\"]\n", false)]
    [InlineData("  scopes: openid\n", false)]
    [InlineData("  sessionLifetime: soon\n", false)]
    [InlineData("  cookieName: ztgw\n", false)]
    public void Gateway_SignIn(string extra, bool valid)
    {
        Assert.Equal(valid, IsValid(Gateway.Value, Issuers + SignIn + extra));
    }

    [Theory]
    [InlineData("signIn:\n  clientId: ztgw-web\n  clientSecretFile: s\n")]
    [InlineData("signIn:\n  issuer: corp\n  clientSecretFile: s\n")]
    [InlineData("signIn:\n  issuer: corp\n  clientId: ztgw-web\n")]
    [InlineData("signIn:\n  issuer: corp\n  clientId: \"\"\n  clientSecretFile: s\n")]
    [InlineData("signIn: true\n")]
    public void Gateway_SignIn_RequiresItsKeys(string section)
    {
        Assert.False(IsValid(Gateway.Value, Issuers + section));
    }

    [Theory]
    [InlineData("ca: certs/mdm-ca.pem", true)]
    [InlineData("ca: certs/mdm-ca.pem, idFrom: uri", true)]
    [InlineData("ca: certs/mdm-ca.pem, idFrom: dns", true)]
    [InlineData("ca: certs/mdm-ca.pem, idFrom: cn", true)]
    [InlineData("idFrom: uri", false)]
    [InlineData("ca: certs/mdm-ca.pem, idFrom: san", false)]
    [InlineData("ca: \"\"", false)]
    [InlineData("ca: certs/mdm-ca.pem, crl: x", false)]
    public void Gateway_DeviceCertificates(string keys, bool valid)
    {
        Assert.Equal(valid, IsValid(Gateway.Value, Issuers + "device:\n  certificates: { " + keys + " }\n"));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8082", "signIn: true", true)]
    [InlineData("http://127.9.0.1:8082", "signIn: true", true)]
    [InlineData("http://[::1]:8082", "signIn: true", true)]
    [InlineData("http://localhost:8082/", "signIn: true", true)]
    [InlineData("http://0.0.0.0:8082", "signIn: false", true)]
    [InlineData("http://0.0.0.0:8082", "", true)]
    [InlineData("https://0.0.0.0:8443", "signIn: true\ntls: { certificate: c.pem, key: c.key }", true)]
    [InlineData("http://0.0.0.0:8082", "signIn: true", false)]
    [InlineData("http://10.0.0.1:8082", "signIn: true", false)]
    [InlineData("http://127.0.0.1.example:8082", "signIn: true", false)]
    [InlineData("http://127.0.0.1:8082", "signIn: yes", false)]
    public void Segment_SignIn(string listen, string extra, bool valid)
    {
        Assert.Equal(valid, IsValid(Segment.Value, Route(listen, extra, "/payroll")));
    }

    [Theory]
    [InlineData("/.ztgw", false)]
    [InlineData("/.ztgw/", false)]
    [InlineData("/.ztgw/callback", false)]
    [InlineData("/.ZTGW/x", false)]
    [InlineData("/.ztgwx", true)]
    [InlineData("/app/.ztgw", true)]
    public void Segment_ReservedPaths(string path, bool valid)
    {
        Assert.Equal(valid, IsValid(Segment.Value, Route("http://127.0.0.1:1", "", path)));
    }

    private static string Route(string listen, string extra, string path) => $$"""
        segment: hr
        listen: {{listen}}
        {{extra}}
        services: { s: { destinations: [http://127.0.0.1:2] } }
        routes:
          - id: r
            match: { path: "{{path}}" }
            service: s
            allow:
              - { name: a, from: [hr], users: { groups: [g] } }

        """;

    private static bool IsValid(JsonSchema schema, string yaml) => schema.Evaluate(YamlJson.Convert(yaml)).IsValid;

    private static JsonSchema Load(string name) =>
        JsonSchema.FromText(File.ReadAllText(Repository.PathOf("schema", name)), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
}
