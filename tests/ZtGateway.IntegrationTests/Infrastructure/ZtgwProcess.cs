using System.Diagnostics;
using ZtGateway.Cli;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>The real <c>ztgw</c> executable, started as its own process with its output redirected.</summary>
public static class ZtgwProcess
{
    /// <summary>A one-segment finance policy whose upstream nothing listens on: enough to start and refuse.</summary>
    public const string FinanceSegment = """
        segment: finance
        listen: http://127.0.0.1:0
        services:
          ledger: { destinations: ["http://127.0.0.1:9"] }
        routes:
          - id: ledger
            match: { path: "/ledger/{**rest}" }
            service: ledger
            allow:
              - { name: staff, from: [finance], users: { groups: [staff] } }
        """;

    /// <summary>Starts <c>dotnet ztgw.dll</c> with <paramref name="args"/>.</summary>
    public static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(ZtgwCommand).Assembly.Location);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }
}
