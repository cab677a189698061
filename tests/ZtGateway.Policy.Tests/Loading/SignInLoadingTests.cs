using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary>
/// Browser sign-in in the policy files: gateway.yaml's <c>signIn:</c>, its client secret file, a segment's <c>signIn</c>
/// flag and the paths reserved for the sign-in endpoints. Every bad value is an error at its line.
/// </summary>
public sealed class SignInLoadingTests : IDisposable
{
    private const string Jwks = """{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}""";

    // Lines 1 to 15; signIn: is line 16, its first key line 17.
    private const string Issuers = """
        identity:
          issuers:
            - name: corp
              type: oidc
              authority: https://idp.corp.example
              audiences: [ztgw]
            - name: entra
              type: entra
              tenantId: 11111111-2222-3333-4444-555555555555
              audiences: [api://ztgw]
            - name: offline
              type: jwks
              issuer: https://idp.example
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]

        """;

    private const string SignIn = """
        signIn:
          issuer: corp
          clientId: ztgw-web
          clientSecretFile: keys/ztgw-web.secret

        """;

    private readonly PolicyFolder _folder = PolicySamples.Minimal()
        .Write("keys/idp.jwks.json", Jwks)
        .Write("keys/gateway-signing.pem", "-----BEGIN PRIVATE KEY-----\nMIG\n-----END PRIVATE KEY-----\n");

    public SignInLoadingTests()
    {
        WriteSecret("s3cr3t-value\n");
        _folder.Write("gateway.yaml", Issuers + SignIn);
    }

    public void Dispose() => _folder.Dispose();

    private static string Hr(string listen, string extra = "", string path = "/payroll/{**rest}") => $$"""
        segment: hr
        listen: {{listen}}
        {{extra}}
        services:
          payroll:
            destinations: [http://127.0.0.1:7102]
        routes:
          - id: payroll-read
            match: { path: "{{path}}", methods: [GET] }
            service: payroll
            allow:
              - name: hr-staff
                from: [hr, finance]
                users: { groups: [hr-staff] }

        """;

    private void WriteSecret(string content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        _folder.Write("keys/ztgw-web.secret", content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_folder.PathOf("keys/ztgw-web.secret"), mode);
        }
    }

    private IReadOnlyList<string> Errors(PolicyLoadResult result)
    {
        Assert.False(result.Succeeded, "the policy loaded");
        return [.. _folder.Format(result).Where(l => l.Contains(": error: ", StringComparison.Ordinal))];
    }

    [Fact]
    public void Absent_NoSegmentSignsPeopleIn()
    {
        _folder.Write("gateway.yaml", Issuers);

        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.Null(result.Policy!.Gateway.SignIn);
        Assert.All(result.Policy.Segments.Values, s => Assert.False(s.SignIn));
    }

    [Fact]
    public void RequiredKeysOnly_TakeTheDefaults()
    {
        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        var signIn = result.Policy!.Gateway.SignIn;
        Assert.NotNull(signIn);
        Assert.Equal("corp", signIn.Issuer);
        Assert.Equal("ztgw-web", signIn.ClientId);
        Assert.Equal(_folder.PathOf("keys/ztgw-web.secret"), signIn.ClientSecretFile);
        Assert.Equal(["openid", "profile"], signIn.Scopes);
        Assert.Equal(TimeSpan.FromHours(8), signIn.SessionLifetime);
        Assert.Equal((17, 3), (signIn.Location.Line, signIn.Location.Column));
        Assert.Equal(_folder.GatewayFile, signIn.Location.File);
        Assert.False(result.Policy.Segments["hr"].SignIn);
    }

    [Fact]
    public void EveryKeyWritten_IsMapped()
    {
        _folder.Write("gateway.yaml", Issuers + """
            signIn:
              issuer: entra
              clientId: 6f1c0a52-ztgw
              clientSecretFile: secrets/web.txt
              scopes: [openid, email, "api://ztgw/.default", offline_access]
              sessionLifetime: 1h30m

            """);
        _folder.Write("secrets/web.txt", "from-the-provider  \r\nsecond line is ignored\r\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_folder.PathOf("secrets/web.txt"), UnixFileMode.UserRead | UnixFileMode.GroupRead);
        }

        _folder.Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", "signIn: true"));

        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        var signIn = result.Policy!.Gateway.SignIn!;
        Assert.Equal("entra", signIn.Issuer);
        Assert.Equal("6f1c0a52-ztgw", signIn.ClientId);
        Assert.Equal(_folder.PathOf("secrets/web.txt"), signIn.ClientSecretFile);
        Assert.Equal(["openid", "email", "api://ztgw/.default", "offline_access"], signIn.Scopes);
        Assert.Equal(TimeSpan.FromMinutes(90), signIn.SessionLifetime);
        Assert.True(result.Policy.Segments["hr"].SignIn);
        Assert.False(result.Policy.Segments["finance"].SignIn);
        var (secret, problem) = SecretFiles.Read(signIn.ClientSecretFile);
        Assert.Null(problem);
        Assert.Equal("from-the-provider", secret);
    }

    [Theory]
    [InlineData("5m", 5)]
    [InlineData("24h", 24 * 60)]
    [InlineData("1d", 24 * 60)]
    public void SessionLifetime_AtItsBounds_IsAccepted(string written, int minutes)
    {
        _folder.Write("gateway.yaml", Issuers + SignIn + "  sessionLifetime: " + written + "\n");

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.Equal(TimeSpan.FromMinutes(minutes), result.Policy!.Gateway.SignIn!.SessionLifetime);
    }

    public static TheoryData<string, string> SectionErrors => new()
    {
        {
            "signIn:\n  clientId: ztgw-web\n  clientSecretFile: keys/ztgw-web.secret\n",
            "gateway.yaml:17:3: error: missing required key 'issuer' in 'signIn'"
        },
        {
            "signIn:\n  issuer:\n  clientId: ztgw-web\n  clientSecretFile: keys/ztgw-web.secret\n",
            "gateway.yaml:17:3: error: missing value for 'issuer' in 'signIn'"
        },
        {
            "signIn:\n  issuer: corpp\n  clientId: ztgw-web\n  clientSecretFile: keys/ztgw-web.secret\n",
            "gateway.yaml:17:11: error: 'signIn.issuer' names 'corpp', which is not an entry of identity.issuers"
        },
        {
            "signIn:\n  issuer: offline\n  clientId: ztgw-web\n  clientSecretFile: keys/ztgw-web.secret\n",
            "gateway.yaml:17:11: error: 'signIn.issuer' names 'offline', an issuer of type jwks, which cannot sign people in " +
            "(it has static keys and no authorization endpoint); name an issuer of type oidc or entra"
        },
        {
            "signIn:\n  issuer: corp\n  clientSecretFile: keys/ztgw-web.secret\n",
            "gateway.yaml:17:3: error: missing required key 'clientId' in 'signIn'"
        },
        {
            "signIn:\n  issuer: corp\n  clientId: \"\"\n  clientSecretFile: keys/ztgw-web.secret\n",
            "gateway.yaml:18:13: error: 'signIn.clientId' must not be empty"
        },
        {
            "signIn:\n  issuer: corp\n  clientId: \"  \"\n  clientSecretFile: keys/ztgw-web.secret\n",
            "gateway.yaml:18:13: error: 'signIn.clientId' must not be empty"
        },
        {
            "signIn:\n  issuer: corp\n  clientId: ztgw-web\n",
            "gateway.yaml:17:3: error: missing required key 'clientSecretFile' in 'signIn'"
        },
        {
            "signIn:\n  issuer: corp\n  clientId: ztgw-web\n  clientSecretFile: \"\"\n",
            "gateway.yaml:19:21: error: 'signIn.clientSecretFile' must not be empty"
        },
        { SignIn + "  scopes: openid\n", "gateway.yaml:20:11: error: 'signIn.scopes' must be a list, not a single value" },
        { SignIn + "  scopes: [openid, \"\"]\n", "gateway.yaml:20:20: error: 'signIn.scopes' has an empty entry" },
        { SignIn + "  scopes: [openid, [profile]]\n", "gateway.yaml:20:20: error: each entry of 'signIn.scopes' must be a single value, not a list" },
        { SignIn + "  scopes: [profile, email]\n", "gateway.yaml:20:11: error: 'signIn.scopes' must contain openid: without it the provider returns no ID token" },
        { SignIn + "  scopes: []\n", "gateway.yaml:20:11: error: 'signIn.scopes' must contain openid: without it the provider returns no ID token" },
        {
            SignIn + "  scopes: [\"openid profile\"]\n",
            "gateway.yaml:20:12: error: 'signIn.scopes' has an invalid scope 'openid profile' (one scope per entry: printable ASCII without spaces, '\"' or '\\')"
        },
        { SignIn + "  scopes: [openid, profile, openid]\n", "gateway.yaml:20:29: error: scope 'openid' is listed twice in 'signIn.scopes' (first at line 20)" },
        { SignIn + "  sessionLifetime: 4m59s\n", "gateway.yaml:20:20: error: 'signIn.sessionLifetime' must be from 5m to 24h, not '4m59s'" },
        { SignIn + "  sessionLifetime: 0\n", "gateway.yaml:20:20: error: 'signIn.sessionLifetime' must be from 5m to 24h, not '0'" },
        { SignIn + "  sessionLifetime: 24h1s\n", "gateway.yaml:20:20: error: 'signIn.sessionLifetime' must be from 5m to 24h, not '24h1s'" },
        { SignIn + "  sessionLifetime: 7d\n", "gateway.yaml:20:20: error: 'signIn.sessionLifetime' must be from 5m to 24h, not '7d'" },
        { SignIn + "  sessionLifetime: a day\n", "gateway.yaml:20:20: error: invalid duration 'a day' for 'signIn.sessionLifetime' (use e.g. 30s, 15m, 12h)" },
        { SignIn + "  cookieName: ztgw\n", "gateway.yaml:20:3: error: unknown key 'cookieName' in 'signIn'" },
        { SignIn + "  clientId: again\n", "gateway.yaml:20:3: error: duplicate key 'clientId' in 'signIn' (first at line 18)" },
        { "signIn: [corp]\n", "gateway.yaml:16:9: error: 'signIn' must be a mapping, not a list" },
    };

    [Theory]
    [MemberData(nameof(SectionErrors))]
    public void BadSection_IsAnErrorAtTheLineOfTheBadValue(string section, string expected)
    {
        _folder.Write("gateway.yaml", Issuers + section);

        Assert.Equal([expected], Errors(_folder.Load()));
    }

    [Fact]
    public void MissingSecretFile_IsAnErrorAtItsLine()
    {
        _folder.Delete("keys/ztgw-web.secret");

        Assert.Equal(
            ["gateway.yaml:19:21: error: signIn.clientSecretFile 'keys/ztgw-web.secret' does not exist " +
             "(write on its first line the client secret the identity provider issued, readable by its owner only)"],
            Errors(_folder.LoadWithKeyFiles()));
    }

    [Fact]
    public void SecretFileThatIsAFolder_IsAnError()
    {
        _folder.Delete("keys/ztgw-web.secret");
        Directory.CreateDirectory(_folder.PathOf("keys/ztgw-web.secret"));

        Assert.Equal(
            ["gateway.yaml:19:21: error: signIn.clientSecretFile 'keys/ztgw-web.secret' is a folder, not a file"],
            Errors(_folder.LoadWithKeyFiles()));
    }

    [Theory]
    [InlineData("", "is empty (the client secret is its first line)")]
    [InlineData("\n\n", "is empty (the client secret is its first line)")]
    [InlineData("\nsecret-on-the-second-line\n", "has an empty first line (the client secret is its first line)")]
    [InlineData("   \r\nsecret\r\n", "has an empty first line (the client secret is its first line)")]
    public void SecretFileWithAnEmptyFirstLine_IsAnError(string content, string problem)
    {
        WriteSecret(content);

        var error = Assert.Single(Errors(_folder.LoadWithKeyFiles()));

        Assert.Equal($"gateway.yaml:19:21: error: signIn.clientSecretFile 'keys/ztgw-web.secret' {problem}", error);
        Assert.DoesNotContain("secret-on-the-second-line", error, StringComparison.Ordinal);
    }

    [Fact]
    public void SecretFileReadableByEveryUser_IsAnError_AndTheSecretIsNotShown()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // file modes are a Unix notion
        }

        WriteSecret("s3cr3t-value\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var error = Assert.Single(Errors(_folder.LoadWithKeyFiles()));

        Assert.Equal(
            "gateway.yaml:19:21: error: signIn.clientSecretFile 'keys/ztgw-web.secret' is readable by every user of the machine (mode 0644); " +
            "restrict it, e.g. chmod 600",
            error);
    }

    [Fact]
    public void SecretFileReadableByItsGroup_IsAccepted()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // file modes are a Unix notion
        }

        WriteSecret("s3cr3t-value\n", UnixFileMode.UserRead | UnixFileMode.GroupRead);

        var result = _folder.LoadWithKeyFiles();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
    }

    [Fact]
    public void SecretFile_IsNotOpenedWhenKeyFilesAreSkipped()
    {
        _folder.Delete("keys/ztgw-web.secret");

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
    }

    [Fact]
    public void SecretFile_IsCheckedEvenWhenTheRestOfTheSectionIsWrong()
    {
        _folder.Delete("keys/ztgw-web.secret");
        _folder.Write("gateway.yaml", Issuers + SignIn.Replace("issuer: corp", "issuer: offline", StringComparison.Ordinal));

        var errors = Errors(_folder.LoadWithKeyFiles());

        Assert.Equal(2, errors.Count);
        Assert.StartsWith("gateway.yaml:17:11: error: 'signIn.issuer' names 'offline', an issuer of type jwks", errors[0], StringComparison.Ordinal);
        Assert.StartsWith("gateway.yaml:19:21: error: signIn.clientSecretFile 'keys/ztgw-web.secret' does not exist", errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public void IssuerWhoseEntryIsBroken_IsNotReportedTwice()
    {
        _folder.Write("gateway.yaml", Issuers.Replace("type: oidc", "type: saml", StringComparison.Ordinal) + SignIn);

        Assert.Equal(["gateway.yaml:4:13: error: issuer 'corp': 'type' must be entra, oidc or jwks, not 'saml'"], Errors(_folder.Load()));
    }

    [Fact]
    public void SegmentSignIn_WithoutTheGatewaySection_IsAnErrorAtTheSegmentsLine()
    {
        _folder.Write("gateway.yaml", Issuers);
        _folder.Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", "signIn: true"));

        Assert.Equal(
            ["segments/hr.yaml:3:9: error: 'signIn' is true, but gateway.yaml has no 'signIn' section; add one naming the issuer, " +
             "clientId and clientSecretFile people sign in with"],
            Errors(_folder.Load()));
    }

    [Fact]
    public void SegmentSignIn_WithABrokenGatewaySection_ReportsOnlyTheSection()
    {
        _folder.Write("gateway.yaml", Issuers + "signIn:\n  issuer: corp\n");
        _folder.Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", "signIn: true"));

        Assert.Equal(
            ["gateway.yaml:17:3: error: missing required key 'clientId' in 'signIn'", "gateway.yaml:17:3: error: missing required key 'clientSecretFile' in 'signIn'"],
            Errors(_folder.Load()));
    }

    [Fact]
    public void SegmentSignIn_False_NeedsNoGatewaySection()
    {
        _folder.Write("gateway.yaml", Issuers);
        _folder.Write("segments/hr.yaml", Hr("http://0.0.0.0:8082", "signIn: false"));

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.False(result.Policy!.Segments["hr"].SignIn);
    }

    [Fact]
    public void SegmentSignIn_NotABoolean_IsAnError()
    {
        _folder.Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", "signIn: yes"));

        Assert.Equal(["segments/hr.yaml:3:9: error: 'signIn' must be true or false, not 'yes'"], Errors(_folder.Load()));
    }

    [Theory]
    [InlineData("http://0.0.0.0:8082")]
    [InlineData("http://[::]:8082")]
    [InlineData("http://10.20.0.5:8082")]
    [InlineData("http://gateway.corp.example:8082")]
    public void SegmentSignIn_OnPlainHttpBeyondLoopback_IsAnError(string listen)
    {
        _folder.Write("segments/hr.yaml", Hr(listen, "signIn: true"));

        Assert.Equal(
            [$"segments/hr.yaml:3:9: error: 'signIn' is true, but listen '{listen}' is plain http on an address other machines reach; " +
             "sign-in over plain http is for loopback development only: use an https listen with 'tls', or 127.0.0.1, [::1] or localhost"],
            Errors(_folder.Load()));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8082", "signIn: true")]
    [InlineData("http://127.0.0.2:8082", "signIn: true")]
    [InlineData("http://[::1]:8082", "signIn: true")]
    [InlineData("http://localhost:8082", "signIn: true")]
    [InlineData("https://0.0.0.0:8443", "signIn: true\ntls:\n  certificate: certs/hr.pem\n  key: certs/hr.key")]
    public void SegmentSignIn_OnLoopbackOrHttps_Loads(string listen, string extra)
    {
        _folder.Write("segments/hr.yaml", Hr(listen, extra));

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
        Assert.True(result.Policy!.Segments["hr"].SignIn);
    }

    [Theory]
    [InlineData("/.ztgw")]
    [InlineData("/.ztgw/")]
    [InlineData("/.ztgw/callback")]
    [InlineData("/.ztgw/{**rest}")]
    [InlineData("/.ZTGW/Callback")]
    public void RouteUnderTheReservedPath_IsAnError_InEverySegment(string path)
    {
        _folder.Write("gateway.yaml", Issuers);
        _folder.Write("segments/hr.yaml", Hr("http://0.0.0.0:8082", path: path));

        Assert.Equal(
            [$"segments/hr.yaml:9:20: error: route 'payroll-read': path '{path}' is reserved: /.ztgw and the paths below it are the gateway's sign-in endpoints"],
            Errors(_folder.Load()));
    }

    [Fact]
    public void RouteUnderTheReservedPath_WithoutAnId_IsNamedByItsPlace()
    {
        _folder.Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", "signIn: true", "/.ztgw/login").Replace("  - id: payroll-read\n    match", "  - match", StringComparison.Ordinal));

        var errors = Errors(_folder.Load());

        Assert.Contains(
            "segments/hr.yaml:8:20: error: route 1: path '/.ztgw/login' is reserved: /.ztgw and the paths below it are the gateway's sign-in endpoints",
            errors);
    }

    [Theory]
    [InlineData("/.ztgwx")]
    [InlineData("/.ztgw-docs/{**rest}")]
    [InlineData("/app/.ztgw/x")]
    [InlineData("/{**rest}")]
    public void RouteBesideTheReservedPath_Loads(string path)
    {
        _folder.Write("segments/hr.yaml", Hr("http://127.0.0.1:8082", "signIn: true", path));

        var result = _folder.Load();

        Assert.True(result.Succeeded, _folder.FormatAll(result));
    }
}
