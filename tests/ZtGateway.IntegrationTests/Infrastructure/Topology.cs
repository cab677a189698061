using System.Net;
using System.Net.Sockets;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>
/// The two-segment network most tests run against. Loopback callers belong to finance by network; hr
/// declares a network nothing here comes from, so an hr workload calling from loopback is out of place.
/// </summary>
public static class Topology
{
    public const string LedgerSync = "spiffe://corp.test/finance/ledger-sync";
    public const string PayrollEngine = "spiffe://corp.test/hr/payroll-engine";

    public static Dictionary<string, string> Standard(string ledgerUrl, string payrollUrl, DateTimeOffset grantUntil) => new()
    {
        ["finance"] = $$"""
            segment: finance
            listen: http://127.0.0.1:0
            members:
              workloads: [{{LedgerSync}}]
              networks: [127.0.0.0/8]
            defaults:
              mfa: required
              device: any
              maxAuthAge: 12h
            services:
              ledger:
                destinations: [{{ledgerUrl}}]
              vault:
                destinations: [{{ledgerUrl}}]
                passAuthorization: true
              dead:
                destinations: [http://127.0.0.1:{{UnusedPort()}}]
            routes:
              - id: ledger
                match: { path: "/ledger/{**rest}", methods: [GET] }
                service: ledger
                allow:
                  - name: finance-staff
                    from: [finance]
                    users: { groups: [finance-staff] }
              - id: ledger-close
                match: { path: "/ledger/close/{**rest}" }
                service: ledger
                allow:
                  - name: controllers
                    from: [finance]
                    users: { roles: [Controller] }
                    maxAuthAge: 15m
                    acr: [phr]
              - id: vault
                match: { path: "/vault/{**rest}" }
                service: vault
                allow:
                  - name: vault-users
                    from: [finance]
                    users: { groups: [finance-staff] }
                    device: compliant
              - id: archive
                match: { path: "/archive/{**rest}" }
                service: ledger
                allow:
                  - name: finance-staff
                    from: [finance]
                    users: { groups: [finance-staff] }
                deny:
                  - name: no-contractors
                    users: { groups: [contractors] }
              - id: reports
                match: { path: "/reports/{**rest}" }
                service: ledger
                allow:
                  - name: only-bob
                    from: [finance]
                    users: { subjects: [bob] }
              - id: dead
                match: { path: "/dead/{**rest}" }
                service: dead
                allow:
                  - name: finance-staff
                    from: [finance]
                    users: { groups: [finance-staff] }
            """,
        ["hr"] = $$"""
            segment: hr
            listen: http://127.0.0.1:0
            members:
              workloads: [{{PayrollEngine}}]
              networks: [10.20.0.0/16]
            services:
              payroll:
                destinations: [{{payrollUrl}}]
            routes:
              - id: payroll-read
                match: { path: "/payroll/{**rest}", methods: [GET] }
                service: payroll
                allow:
                  - name: hr-staff
                    from: [hr]
                    users: { groups: [hr-staff] }
                  - name: ledger-sync
                    from: [finance]
                    workloads: [{{LedgerSync}}]
                    until: {{grantUntil.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}
                  - name: payroll-engine
                    from: [hr]
                    workloads: [{{PayrollEngine}}]
            """,
    };

    /// <summary>
    /// A loopback port that nothing listens on (bound, then released), for a listener that is opened later. It is taken
    /// below the kernel's ephemeral range, where the outgoing connections of other tests never land in between, and it is
    /// never a port that browsers refuse to load (the browser tests open these listeners in Chromium).
    /// </summary>
    public static int UnusedPort()
    {
        var (low, high) = BelowEphemeralRange();
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Random.Shared.Next(low, high);
            if (BrowserBlockedPorts.Contains(port))
            {
                continue;
            }

            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                probe.Stop();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var any = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return any;
    }

    // The Fetch standard's bad ports (https://fetch.spec.whatwg.org/#port-blocking) at or above the range's 10,000:
    // Chromium answers a navigation to one with net::ERR_UNSAFE_PORT, before any connection. The list's others are lower.
    private static readonly int[] BrowserBlockedPorts = [10080];

    // Linux's net.ipv4.ip_local_port_range starts at 32768 by default; ports below it are handed out only on request.
    private static (int Low, int High) BelowEphemeralRange()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (int.TryParse(range[0], out var ephemeralLow) && ephemeralLow > 12_000)
            {
                return (10_000, ephemeralLow);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
        }

        return (10_000, 32_000);
    }
}
