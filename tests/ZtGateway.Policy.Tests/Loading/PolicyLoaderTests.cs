using System.Net;
using System.Security.Cryptography;
using System.Text;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Tests.Loading;

public sealed class PolicyLoaderTests
{
    [Fact]
    public void Loads_FullConfig_WithEveryValue()
    {
        using var folder = PolicySamples.Full();

        var result = folder.Load();

        Assert.Equal(string.Empty, folder.FormatAll(result));
        Assert.True(result.Succeeded);
        var policy = result.Policy!;
        var gateway = policy.Gateway;
        Assert.Equal(folder.GatewayFile, gateway.FilePath);
        Assert.Equal(folder.PathOf("segments"), gateway.Gateway.PolicyDir);
        Assert.Equal(folder.PathOf("state"), gateway.Gateway.StateDir);
        Assert.Equal([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("192.168.1.10/32")], gateway.Gateway.TrustedProxies);
        Assert.Equal("http://127.0.0.1:9090", gateway.Gateway.Management.Listen);

        var issuers = gateway.Identity.Issuers;
        Assert.Equal(["corp", "dev", "offline"], issuers.Select(i => i.Name));
        Assert.Equal(IssuerType.Entra, issuers[0].Type);
        Assert.Equal("https://login.microsoftonline.com/", issuers[0].Instance);
        Assert.Equal("11111111-2222-3333-4444-555555555555", issuers[0].TenantId);
        Assert.Equal(["api://ztgw"], issuers[0].Audiences);
        Assert.True(issuers[0].RequireHttpsMetadata);
        Assert.Equal(new SourceLocation(folder.GatewayFile, 9, 7), issuers[0].Location);
        Assert.Equal(IssuerType.Oidc, issuers[1].Type);
        Assert.Equal("http://127.0.0.1:5556", issuers[1].Authority);
        Assert.False(issuers[1].RequireHttpsMetadata);
        Assert.Equal(IssuerType.Jwks, issuers[2].Type);
        Assert.Equal("https://idp.example", issuers[2].Issuer);
        Assert.Equal(folder.PathOf("keys/idp.jwks.json"), issuers[2].JwksFile);
        Assert.Equal(["mfa", "otp", "hwk"], gateway.Identity.MfaMethods);
        Assert.Equal(TimeSpan.FromSeconds(30), gateway.Identity.ClockSkew);

        Assert.Equal("X-Device-Posture", gateway.Device.Header);
        Assert.Equal("ztgw-devices", gateway.Device.Audience);
        Assert.Equal(TimeSpan.FromMinutes(10), gateway.Device.MaxAge);
        Assert.Equal(folder.PathOf("keys/posture.jwks.json"), gateway.Device.Issuers[0].JwksFile);
        Assert.Null(gateway.Device.Issuers[0].JwksUri);
        Assert.Equal("https://mdm.example/jwks.json", gateway.Device.Issuers[1].JwksUri);
        Assert.Null(gateway.Device.Issuers[1].JwksFile);

        Assert.Equal("X-ZT-Assertion", gateway.Assertion.Header);
        Assert.Equal("https://ztgw.example", gateway.Assertion.Issuer);
        Assert.Equal(folder.PathOf("keys/gateway-signing.pem"), gateway.Assertion.SigningKeyFile);
        Assert.Equal(TimeSpan.FromSeconds(90), gateway.Assertion.Lifetime);

        Assert.Equal(new TelemetrySettings { ServiceName = "ztgw-test", OtlpEndpoint = "http://127.0.0.1:4317", OtlpProtocol = "http/protobuf" }, gateway.Telemetry);
        var transmitter = Assert.Single(gateway.Signals.Transmitters);
        Assert.Equal(("https://edr.example", folder.PathOf("keys/signals.jwks.json"), "ztgw"), (transmitter.Issuer, transmitter.JwksFile, transmitter.Audience));
        Assert.Equal(new AdminSettings { Issuer = "corp", Role = "ZtGatewayAdmin" }, gateway.Admin);
        Assert.Equal(
            new DetectionSettings
            {
                Window = TimeSpan.FromMinutes(10),
                MaxDenials = 20,
                MaxSegments = 3,
                MaxRoutes = 12,
                LearningPeriod = TimeSpan.FromMinutes(90),
                Response = DetectionResponse.Contain,
                ContainFor = TimeSpan.FromMinutes(30),
            },
            gateway.Detection);
        Assert.Equal(["stdout", "file:" + folder.PathOf("logs/audit.jsonl")], gateway.Audit.Sinks);
        Assert.False(gateway.Audit.Allows);

        Assert.Equal(["finance", "hr"], policy.Segments.Keys.Order(StringComparer.Ordinal));
        var hr = policy.Segments["hr"];
        Assert.Equal("Human resources systems", hr.Description);
        Assert.Equal("http://0.0.0.0:8082", hr.Listen);
        Assert.Equal(folder.PathOf("segments/hr.yaml"), hr.FilePath);
        Assert.Equal(new SourceLocation(folder.PathOf("segments/hr.yaml"), 1, 1), hr.Location);
        Assert.Equal(["spiffe://corp.example/hr/payroll-engine", "hr-portal"], hr.Members.Workloads);
        Assert.Equal([IPNetwork.Parse("10.20.0.0/16")], hr.Members.Networks);
        Assert.Equal(new RuleDefaults { Mfa = MfaRequirement.Optional, Device = DeviceRequirement.ManagedDevice, MaxAuthAge = TimeSpan.FromHours(8) }, hr.Defaults);

        var payroll = hr.Services["payroll"];
        Assert.Equal(["http://127.0.0.1:7102", "https://payroll-2.internal:8443"], payroll.Destinations);
        Assert.Equal("/healthz", payroll.HealthCheck);
        Assert.True(payroll.PassAuthorization);
        Assert.Equal("spiffe://corp.example/hr/payroll-engine", payroll.Identity);

        Assert.Equal(["payroll-read", "payroll-admin"], hr.Routes.Select(r => r.Id));
        var read = hr.Routes[0];
        Assert.Equal("/payroll/{**rest}", read.Match.Path);
        Assert.Equal(["GET", "HEAD"], read.Match.Methods);
        Assert.Equal("payroll", read.Service);
        Assert.Equal(new SourceLocation(hr.FilePath, 18, 5), read.Location);
        var staff = read.Allow[0];
        Assert.Equal(["hr"], staff.From);
        Assert.Equal(["hr-staff"], staff.Users!.Groups);
        Assert.Null(staff.Workloads);
        Assert.Null(staff.Device);
        Assert.Null(staff.Mfa);
        Assert.Equal(new SourceLocation(hr.FilePath, 22, 9), staff.Location);
        var ledgerSync = read.Allow[1];
        Assert.Null(ledgerSync.Users);
        Assert.Equal(["spiffe://corp.example/finance/ledger-sync"], ledgerSync.Workloads);
        Assert.Equal(["GET"], ledgerSync.Methods);
        Assert.Equal([IPNetwork.Parse("10.10.0.0/16")], ledgerSync.Networks);
        Assert.Equal(new DateTimeOffset(2026, 12, 31, 0, 0, 0, TimeSpan.Zero), ledgerSync.Until);

        var admin = hr.Routes[1];
        Assert.Empty(admin.Match.Methods);
        var admins = Assert.Single(admin.Allow);
        Assert.Equal(["*"], admins.From);
        Assert.Equal(["PayrollAdmin"], admins.Users!.Roles);
        Assert.Equal(["alice"], admins.Users.Subjects);
        Assert.Equal(MfaRequirement.Required, admins.Mfa);
        Assert.Equal(TimeSpan.FromMinutes(15), admins.MaxAuthAge);
        Assert.Equal(["phr"], admins.Acr);
        Assert.Equal(new DeviceRequirement { Required = true, Compliant = true, Managed = true, MaxRisk = RiskLevel.Low }, admins.Device);
        var noContractors = Assert.Single(admin.Deny);
        Assert.Null(noContractors.From);
        Assert.Equal(["contractors"], noContractors.Users!.Groups);

        Assert.Equal(["finance", "unknown"], policy.Segments["finance"].Routes[0].Allow[0].From);
    }

    [Fact]
    public void Loads_DesignSamples_WordForWord()
    {
        using var folder = new PolicyFolder()
            .Write("gateway.yaml", PolicySamples.DesignGateway)
            .Write("segments/hr.yaml", PolicySamples.DesignHr)
            .Write("segments/finance.yaml", PolicySamples.FullFinance);

        var result = folder.Load();

        Assert.Equal(string.Empty, folder.FormatAll(result));
        var hr = result.Policy!.Segments["hr"];
        Assert.Equal(DeviceRequirement.CompliantDevice, hr.Defaults.Device);
        Assert.Equal(["GET"], hr.Routes[0].Match.Methods);
        Assert.Equal(new DateTimeOffset(2026, 12, 31, 0, 0, 0, TimeSpan.Zero), hr.Routes[0].Allow[1].Until);
        Assert.Equal(folder.PathOf("keys/signals.jwks.json"), result.Policy.Gateway.Signals.Transmitters[0].JwksFile);
    }

    [Fact]
    public void Applies_Defaults_ForAbsentSections()
    {
        using var folder = PolicySamples.Minimal();

        var result = folder.Load();

        Assert.Equal(string.Empty, folder.FormatAll(result));
        var gateway = result.Policy!.Gateway;
        Assert.Equal(folder.PathOf("segments"), gateway.Gateway.PolicyDir);
        Assert.Equal(folder.PathOf("state"), gateway.Gateway.StateDir);
        Assert.Empty(gateway.Gateway.TrustedProxies);
        Assert.Equal("http://127.0.0.1:9090", gateway.Gateway.Management.Listen);
        Assert.Equal(IdentitySettings.DefaultMfaMethods, gateway.Identity.MfaMethods);
        Assert.Equal(TimeSpan.FromSeconds(60), gateway.Identity.ClockSkew);
        Assert.Equal(new DeviceSettings(), gateway.Device);
        Assert.Equal(new AssertionSettings { SigningKeyFile = folder.PathOf("keys/gateway-signing.pem") }, gateway.Assertion);
        Assert.Equal(new TelemetrySettings(), gateway.Telemetry);
        Assert.Empty(gateway.Signals.Transmitters);
        Assert.Null(gateway.Admin);
        Assert.Equal(new DetectionSettings(), gateway.Detection);
        Assert.Equal(["stdout"], gateway.Audit.Sinks);
        Assert.True(gateway.Audit.Allows);

        var hr = result.Policy.Segments["hr"];
        Assert.Null(hr.Description);
        Assert.Empty(hr.Members.Workloads);
        Assert.Equal(new RuleDefaults(), hr.Defaults);
        Assert.Equal(DeviceRequirement.CompliantDevice, hr.Defaults.Device);
        Assert.False(hr.Services["payroll"].PassAuthorization);
        Assert.Null(hr.Services["payroll"].HealthCheck);
        Assert.Empty(hr.Routes[0].Deny);
    }

    [Theory]
    [InlineData("compliant", true, true, false)]
    [InlineData("managed", true, false, true)]
    [InlineData("any", false, false, false)]
    public void Maps_DeviceWord(string word, bool required, bool compliant, bool managed)
    {
        using var folder = PolicySamples.Minimal()
            .Write("segments/hr.yaml", PolicySamples.MinimalHr.Replace("users: { groups: [hr-staff] }", $"users: {{ groups: [hr-staff] }}\n        device: {word}", StringComparison.Ordinal));

        var result = folder.Load();

        Assert.Equal(string.Empty, folder.FormatAll(result));
        var device = result.Policy!.Segments["hr"].Routes[0].Allow[0].Device!;
        Assert.Equal((required, compliant, managed, (RiskLevel?)null), (device.Required, device.Compliant, device.Managed, device.MaxRisk));
    }

    [Fact]
    public void Computes_Version_OverGatewayAndSegmentFiles()
    {
        using var folder = PolicySamples.Minimal();

        var version = folder.Load().Policy!.Version;

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(File.ReadAllBytes(folder.GatewayFile));
        foreach (var name in new[] { "finance.yaml", "hr.yaml" })
        {
            sha.AppendData(Encoding.UTF8.GetBytes(name));
            sha.AppendData([0]);
            sha.AppendData(File.ReadAllBytes(folder.PathOf("segments/" + name)));
        }

        Assert.Equal(Convert.ToHexStringLower(sha.GetHashAndReset()), version);
        Assert.Matches("^[0-9a-f]{64}$", version);
    }

    [Fact]
    public void Changes_Version_WhenASegmentFileChanges()
    {
        using var folder = PolicySamples.Minimal();
        var before = folder.Load().Policy!.Version;
        Assert.Equal(before, folder.Load().Policy!.Version);

        folder.Write("segments/finance.yaml", PolicySamples.MinimalFinance + "description: Ledgers\n");

        Assert.NotEqual(before, folder.Load().Policy!.Version);
    }

    [Fact]
    public void Reports_EveryFileRead_WithItsDigest_AndTheVersion()
    {
        using var folder = PolicySamples.Minimal();

        var result = folder.Load();

        Assert.True(result.Succeeded, folder.FormatAll(result));
        Assert.Equal(
            [folder.GatewayFile, folder.PathOf("segments/finance.yaml"), folder.PathOf("segments/hr.yaml")],
            result.Files.Select(f => f.Path));
        foreach (var file in result.Files)
        {
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file.Path))), file.Sha256);
        }

        Assert.Equal(result.Policy!.Version, result.Version);
    }

    [Fact]
    public void ARefusedLoad_StillReportsTheFilesRead_AndTheVersionTheyHashTo()
    {
        using var folder = PolicySamples.Minimal();
        var good = folder.Load();
        folder.Write("segments/hr.yaml", "segment: hr\nroutes: [ {\n");

        var refused = folder.Load();

        Assert.False(refused.Succeeded);
        Assert.Null(refused.Policy);
        Assert.Equal(good.Files.Select(f => f.Path), refused.Files.Select(f => f.Path));
        Assert.Equal(good.Files[0], refused.Files[0]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(folder.PathOf("segments/hr.yaml")))), refused.Files[2].Sha256);
        Assert.NotEqual(good.Files[2].Sha256, refused.Files[2].Sha256);
        Assert.Matches("^[0-9a-f]{64}$", refused.Version);
        Assert.NotEqual(good.Version, refused.Version);

        // The same bytes as a valid policy would be: restoring the file restores the version.
        folder.Write("segments/hr.yaml", PolicySamples.MinimalHr);
        Assert.Equal(good.Version, folder.Load().Version);
    }

    [Fact]
    public void AnUnreadableGatewayFile_ReportsNoFilesAndNoVersion()
    {
        using var folder = new PolicyFolder();

        var result = folder.Load();

        Assert.False(result.Succeeded);
        Assert.Empty(result.Files);
        Assert.Null(result.Version);
    }

    [Fact]
    public void Reads_YmlFiles_AndIgnoresOtherFiles()
    {
        using var folder = PolicySamples.Minimal()
            .Delete("segments/finance.yaml")
            .Write("segments/finance.yml", PolicySamples.MinimalFinance)
            .Write("segments/README.md", "not a segment")
            .Write("segments/nested/other.yaml", "not: read");

        var result = folder.Load();

        Assert.Equal(string.Empty, folder.FormatAll(result));
        Assert.Equal(["finance", "hr"], result.Policy!.Segments.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Reports_MissingGatewayFile()
    {
        using var folder = new PolicyFolder();

        var result = folder.Load();

        Assert.Null(result.Policy);
        Assert.Equal(["gateway.yaml:1:1: error: file not found"], folder.Format(result));
    }

    [Fact]
    public void Rejects_MissingPolicyDir()
    {
        using var folder = new PolicyFolder().Write("gateway.yaml", "gateway:\n  policyDir: rules\n" + PolicySamples.MinimalGateway);

        var result = folder.Load();

        Assert.Equal(["gateway.yaml:2:14: error: policy folder 'rules' does not exist"], folder.Format(result));
    }

    [Fact]
    public void Reports_ExpiredGrant_AsWarning_AndStillLoads()
    {
        using var folder = PolicySamples.Full();

        var result = folder.Load(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero));

        Assert.True(result.Succeeded);
        Assert.NotNull(result.Policy);
        Assert.Equal(
            ["segments/hr.yaml:30:16: warning: rule 'ledger-sync': grant expired at 2026-12-31T00:00:00Z; it no longer applies"],
            folder.Format(result));
    }

    [Fact]
    public void Reports_EveryError_InEveryFile_InOneResult()
    {
        using var folder = PolicySamples.Minimal()
            .Write("gateway.yaml", PolicySamples.MinimalGateway + "detection:\n  window: 10x\n  maxDenials: -1\naudit:\n  sink: [stdout]\n")
            .Write("segments/finance.yaml", PolicySamples.MinimalFinance.Replace("path: /ledger", "path: ledger", StringComparison.Ordinal) + "owner: bob\n")
            .Write("segments/hr.yaml", PolicySamples.MinimalHr
                .Replace("service: payroll", "service: payrol", StringComparison.Ordinal)
                .Replace("from: [hr, finance]", "from: [hr, financ]", StringComparison.Ordinal)
                .Replace("http://127.0.0.1:8082", "http://127.0.0.1:8081", StringComparison.Ordinal));

        var result = folder.Load();

        Assert.Null(result.Policy);
        Assert.False(result.Succeeded);
        Assert.Equal(
            [
                "gateway.yaml:9:11: error: invalid duration '10x' for 'detection.window' (use e.g. 30s, 15m, 12h)",
                "gateway.yaml:10:15: error: 'detection.maxDenials' must be a positive whole number, not '-1'",
                "gateway.yaml:12:3: error: unknown key 'sink' in 'audit'",
                "segments/finance.yaml:8:20: error: route 'ledger': path 'ledger' must start with '/'",
                "segments/finance.yaml:14:1: error: unknown key 'owner' in segment file",
                "segments/hr.yaml:2:9: error: listen 'http://127.0.0.1:8081' overlaps the listener 'http://127.0.0.1:8081' of segment 'finance' (finance.yaml)",
                "segments/hr.yaml:9:14: error: route 'payroll-read': service 'payrol' is not defined in this file",
                "segments/hr.yaml:12:20: error: rule 'hr-staff': from names unknown segment 'financ'",
            ],
            folder.Format(result),
            StringComparer.Ordinal);
    }

    [Fact]
    public void Rejects_WorkloadListedInTwoSegments()
    {
        using var folder = PolicySamples.Minimal()
            .Write("segments/finance.yaml", PolicySamples.MinimalFinance + "members:\n  workloads: [ledger-sync]\n")
            .Write("segments/hr.yaml", PolicySamples.MinimalHr + "members:\n  workloads: [hr-portal, ledger-sync]\n");

        var result = folder.Load();

        Assert.Equal(
            "segments/hr.yaml:15:26: error: workload 'ledger-sync' is already a member of segment 'finance' (finance.yaml)",
            folder.FormatAll(result));
    }

    [Fact]
    public void Reports_EveryDuplicateAndUnknownKey_NotOnlyTheFirst()
    {
        using var folder = PolicySamples.Minimal()
            .Write("segments/hr.yaml", PolicySamples.MinimalHr + "listen: http://127.0.0.1:9999\nowner: hr\nsegment: hr\ncolour: blue\n");

        var result = folder.Load();

        Assert.Equal(
            """
            segments/hr.yaml:14:1: error: duplicate key 'listen' in segment file (first at line 2)
            segments/hr.yaml:15:1: error: unknown key 'owner' in segment file
            segments/hr.yaml:16:1: error: duplicate key 'segment' in segment file (first at line 1)
            segments/hr.yaml:17:1: error: unknown key 'colour' in segment file
            """,
            folder.FormatAll(result));
    }

    [Theory]
    [InlineData("http://127.0.0.1:0", "http://127.0.0.1:0")]
    [InlineData("http://0.0.0.0:0", "http://127.0.0.1:0")]
    [InlineData("http://127.0.0.1:8081", "http://127.0.0.2:8081")]
    [InlineData("http://[::1]:8081", "http://127.0.0.1:8081")]
    public void Accepts_ListenersThatDoNotCollide(string finance, string hr)
    {
        using var folder = PolicySamples.Minimal()
            .Write("segments/finance.yaml", PolicySamples.MinimalFinance.Replace("http://127.0.0.1:8081", finance, StringComparison.Ordinal))
            .Write("segments/hr.yaml", PolicySamples.MinimalHr.Replace("http://127.0.0.1:8082", hr, StringComparison.Ordinal));

        var result = folder.Load();

        Assert.Equal(string.Empty, folder.FormatAll(result));
        Assert.Equal(hr, result.Policy!.Segments["hr"].Listen);
    }

    [Fact]
    public void Accepts_EmptyManagementListen_AsDisabled()
    {
        using var folder = PolicySamples.Minimal()
            .Write("gateway.yaml", "gateway:\n  management:\n    listen: \"\"\n" + PolicySamples.MinimalGateway)
            .Write("segments/hr.yaml", PolicySamples.MinimalHr.Replace("http://127.0.0.1:8082", "http://0.0.0.0:9090", StringComparison.Ordinal));

        var result = folder.Load();

        Assert.Equal(string.Empty, folder.FormatAll(result));
        Assert.Equal(string.Empty, result.Policy!.Gateway.Gateway.Management.Listen);
    }

    [Fact]
    public void Rejects_SegmentOnTheDefaultManagementPort()
    {
        using var folder = PolicySamples.Minimal()
            .Write("segments/hr.yaml", PolicySamples.MinimalHr.Replace("http://127.0.0.1:8082", "http://localhost:9090", StringComparison.Ordinal));

        var result = folder.Load();

        Assert.Equal(
            "segments/hr.yaml:2:9: error: listen 'http://localhost:9090' overlaps the management listener 'http://127.0.0.1:9090' (gateway.yaml)",
            folder.FormatAll(result));
    }

    [Fact]
    public void Resolves_AbsolutePolicyDir_AndFileSinkOutsideTheFolder()
    {
        using var segments = PolicySamples.Minimal();
        using var folder = new PolicyFolder()
            .Write("gateway.yaml", $"gateway:\n  policyDir: {segments.PathOf("segments")}\naudit:\n  sinks: [\"file:../audit.jsonl\"]\n" + PolicySamples.MinimalGateway);

        var result = folder.Load();

        Assert.Equal(string.Empty, folder.FormatAll(result));
        Assert.Equal(segments.PathOf("segments"), result.Policy!.Gateway.Gateway.PolicyDir);
        Assert.Equal("file:" + Path.GetFullPath(Path.Combine(folder.Root, "..", "audit.jsonl")), result.Policy.Gateway.Audit.Sinks[0]);
    }
}
