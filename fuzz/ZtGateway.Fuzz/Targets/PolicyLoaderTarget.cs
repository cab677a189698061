using ZtGateway.Policy.Loading;

namespace ZtGateway.Fuzz.Targets;

/// <summary>
/// <see cref="PolicyLoader.Load(string, TimeProvider, PolicyLoadOptions)"/> on a fuzzed file: the gateway.yaml (a fixed
/// segment file beside it) or a segment file (a fixed gateway.yaml and a second, fixed segment beside it).
/// Properties: it never throws; it returns a policy and no error, or no policy and at least one error; every
/// diagnostic has a message and a line and column of at least 1, and formats.
/// </summary>
internal sealed class PolicyLoaderTarget : IFuzzTarget
{
    /// <summary>A small gateway.yaml whose issuers, posture issuers and transmitters segment rules can name.</summary>
    internal const string FixedGateway = """
        gateway:
          policyDir: segments
          trustedProxies: [10.0.0.0/8]
          stateDir: state
          management:
            listen: http://127.0.0.1:9090
        identity:
          issuers:
            - name: offline
              type: jwks
              issuer: https://idp.example
              jwksFile: keys/idp.jwks.json
              audiences: [ztgw]
        device:
          issuers:
            - issuer: https://posture.example
              jwksFile: keys/posture.jwks.json
        signals:
          transmitters:
            - issuer: https://signals.example
              jwksFile: keys/signals.jwks.json
              audience: ztgw
        admin:
          issuer: offline
          role: ZtGatewayAdmin
        audit:
          sinks: [stdout]

        """;

    /// <summary>A segment that the fuzzed segment can reach or be reached from.</summary>
    internal const string FixedSegment = """
        segment: finance
        description: Finance systems
        listen: http://127.0.0.1:8081
        members:
          workloads: [spiffe://corp.example/finance/ledger-sync]
          networks: [10.10.0.0/16]
        defaults:
          mfa: required
          device: compliant
          maxAuthAge: 12h
        services:
          ledger:
            destinations: [http://127.0.0.1:7101]
            healthCheck: /healthz
            identity: spiffe://corp.example/finance/ledger-sync
        routes:
          - id: ledger-read
            match: { path: "/ledger/{**rest}", methods: [GET] }
            service: ledger
            allow:
              - name: finance-staff
                from: [finance, hr]
                users: { groups: [finance-staff] }

        """;

    private static readonly PolicyLoadOptions Options = new() { KeyFiles = KeyFileCheck.Skip };

    private readonly ScratchFolder _folder;
    private readonly string _fuzzedFile;
    private readonly string _gatewayFile;
    private readonly TimeProvider _time = new FixedTimeProvider(FixedTimeProvider.Epoch);

    private PolicyLoaderTarget(string name, bool fuzzGateway)
    {
        Name = name;
        _folder = new ScratchFolder(name);
        _gatewayFile = _folder.Write("gateway.yaml", FixedGateway);
        _folder.Write(Path.Combine("segments", "finance.yaml"), FixedSegment);
        _fuzzedFile = fuzzGateway ? _gatewayFile : _folder.PathOf(Path.Combine("segments", "fuzzed.yaml"));
    }

    /// <summary>The fuzzed gateway.yaml, with <see cref="FixedSegment"/> in <c>segments/</c>.</summary>
    public static PolicyLoaderTarget Gateway() => new("policy-gateway", fuzzGateway: true);

    /// <summary>A fuzzed segment file in <c>segments/</c>, beside <see cref="FixedSegment"/>, under <see cref="FixedGateway"/>.</summary>
    public static PolicyLoaderTarget Segment() => new("policy-segment", fuzzGateway: false);

    public string Name { get; }

    public void Run(ReadOnlySpan<byte> input)
    {
        _folder.Write(Path.GetRelativePath(_folder.Root, _fuzzedFile), input);
        var result = PolicyLoader.Load(_gatewayFile, _time, Options);

        var errors = result.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
        PropertyViolationException.Check(
            result.Policy is null ? errors > 0 : errors == 0,
            $"a load returned {(result.Policy is null ? "no policy" : "a policy")} with {errors} error(s)");
        foreach (var diagnostic in result.Diagnostics)
        {
            PropertyViolationException.Check(!string.IsNullOrWhiteSpace(diagnostic.Message), "a diagnostic without a message");
            PropertyViolationException.Check(
                diagnostic.Location.Line >= 1 && diagnostic.Location.Column >= 1,
                $"a diagnostic at line {diagnostic.Location.Line}, column {diagnostic.Location.Column}: {diagnostic.Message}");
            _ = diagnostic.Format(_folder.Root);
        }
    }

    public void Dispose() => _folder.Dispose();
}
