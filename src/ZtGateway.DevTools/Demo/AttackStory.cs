using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace ZtGateway.DevTools.Demo;

/// <summary>One step of the story: what was tried, at which gateway, what it should answer, and what it did.</summary>
internal sealed record StoryStep(string Actor, string Action, string At, string Expected, string Got)
{
    public bool Passed => string.Equals(Expected, Got, StringComparison.Ordinal);
}

/// <summary>
/// The scripted attack story played against a <see cref="DemoNetwork"/> over real HTTP: normal work, then
/// one lateral-movement attempt after another, each of which a gateway must stop for the right reason. The EDR
/// tells one gateway; the others refuse because they share its state.
/// </summary>
internal sealed class AttackStory(DemoNetwork network, TimeProvider time) : IDisposable
{
    /// <summary>How long a step that depends on another gateway's change is tried again before it is judged.</summary>
    public static readonly TimeSpan Propagation = TimeSpan.FromSeconds(2);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose() => _http.Dispose();

    public string AliceToken { get; private set; } = string.Empty;

    public string AliceLaptop { get; private set; } = string.Empty;

    public string LedgerSyncToken { get; private set; } = string.Empty;

    public async IAsyncEnumerable<StoryStep> PlayAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        AliceToken = await UserTokenAsync("alice", mfa: true, cancellationToken);
        AliceLaptop = Posture("fin-laptop-7", "finance", network.PostureKey, user: "alice");
        LedgerSyncToken = await WorkloadTokenAsync("ledger-sync", cancellationToken);

        yield return await StepAsync("alice (finance, MFA, compliant laptop)", "reads the finance ledger", "200 allowed",
            "finance", "/ledger/2026", AliceToken, AliceLaptop, null, cancellationToken);

        yield return await StepAsync("alice (finance, MFA, compliant laptop)", "reaches into hr payroll", "403 segment-not-allowed",
            "hr", "/payroll/alice", AliceToken, AliceLaptop, null, cancellationToken);

        var stolen = await UserTokenAsync("alice", mfa: false, cancellationToken);
        yield return await StepAsync("attacker with alice's password only", "reads the finance ledger", "401 mfa-required",
            "finance", "/ledger/2026", stolen, AliceLaptop, null, cancellationToken);

        // A compromised finance workstation mints itself an hr posture with a key it made up.
        using var selfMade = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forgedKey = new SigningCredentials(new ECDsaSecurityKey(selfMade) { KeyId = network.PostureKey.Key.KeyId }, SecurityAlgorithms.EcdsaSha256);
        yield return await StepAsync("compromised finance workstation", "claims an hr device to read payroll", "403 device-invalid",
            "hr", "/payroll/alice", AliceToken, Posture("fin-laptop-7", "hr", forgedKey, user: "alice"), null, cancellationToken);

        yield return await StepAsync("ledger-sync (finance workload)", "exports payroll under its grant", "200 allowed",
            "hr", "/payroll/export", LedgerSyncToken, null, "10.10.0.7", cancellationToken);

        yield return await StepAsync("ledger-sync's token, stolen", "replayed from the engineering network", "403 source-mismatch",
            "hr", "/payroll/export", LedgerSyncToken, null, "10.30.0.9", cancellationToken);

        // The EDR pushes a CAEP device-compliance-change for alice's laptop to the hr gateway's management listener.
        var signal = DevSignals.Mint(new DevSignalRequest
        {
            Event = "device-compliance-change",
            Device = "fin-laptop-7",
            Status = "not-compliant",
            Issuer = DemoConfig.EdrIssuer,
            Audience = "ztgw",
        }, network.SignalKey, time);
        yield return new StoryStep("the EDR", "reports alice's laptop not compliant (CAEP)", "hr /ssf/events", "202 accepted",
            await PushAsync("hr", signal, cancellationToken));

        // The finance gateway never heard from the EDR: it refuses the laptop because it shares the hr gateway's state.
        yield return await EventuallyAsync(() => StepAsync("alice (finance, MFA, quarantined laptop)", "reads the finance ledger again", "403 device-quarantined",
            "finance", "/ledger/2026", AliceToken, AliceLaptop, null, cancellationToken), cancellationToken);

        yield return new StoryStep("an attacker who captured the SET", "replays it to another gateway", "engineering /ssf/events", "400 jti already received",
            await PushAsync("engineering", signal, cancellationToken));

        var (finding, audit) = await FindingAsync("source-mismatch", cancellationToken);
        yield return new StoryStep("the detector", "reports the stolen workload token", audit, "finding source-mismatch", finding);
    }

    /// <summary>Plays a step again, for at most <see cref="Propagation"/>, until it gets its expected answer.</summary>
    private static async Task<StoryStep> EventuallyAsync(Func<Task<StoryStep>> play, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var step = await play();
            if (step.Passed || Stopwatch.GetElapsedTime(started) >= Propagation)
            {
                return step;
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Pushes a SET to a gateway's management listener: "202 accepted", "400 jti already received" or "STATUS err".</summary>
    private async Task<string> PushAsync(string segment, string signal, CancellationToken cancellationToken)
    {
        using var push = new HttpRequestMessage(HttpMethod.Post, new Uri(network.Management(segment), "/ssf/events"));
        push.Content = new StringContent(signal, System.Text.Encoding.ASCII, "application/secevent+jwt");
        using var response = await _http.SendAsync(push, cancellationToken);
        var status = (int)response.StatusCode;
        if (status == 202)
        {
            return "202 accepted";
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var json = JsonDocument.Parse(body);
            var error = json.RootElement.TryGetProperty("err", out var err) ? err.GetString() : null;
            var description = json.RootElement.TryGetProperty("description", out var text) ? text.GetString() : null;
            return description?.Contains("already received", StringComparison.Ordinal) == true ? $"{status} jti already received" : $"{status} {error}".TrimEnd();
        }
        catch (JsonException)
        {
            return $"{status}";
        }
    }

    /// <summary>Waits briefly for a Detection Finding (OCSF 2004) of the given kind in the gateways' audit files.</summary>
    private async Task<(string Got, string At)> FindingAsync(string kind, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            foreach (var segment in DemoConfig.Segments)
            {
                var path = network.AuditPath(segment);
                if (!File.Exists(path))
                {
                    continue;
                }

                foreach (var line in await File.ReadAllLinesAsync(path, cancellationToken))
                {
                    if (line.Contains("\"class_uid\":2004", StringComparison.Ordinal) && line.Contains("\"" + kind + "\"", StringComparison.Ordinal))
                    {
                        return ("finding " + kind, DemoConfig.AuditFile(segment));
                    }
                }
            }

            await Task.Delay(100, cancellationToken);
        }

        return ("no finding", "audit files");
    }

    private async Task<StoryStep> StepAsync(string actor, string action, string expected, string segment, string path,
        string? token, string? posture, string? from, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(network.Segment(segment), path));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (posture is not null)
        {
            request.Headers.Add("X-Device-Posture", posture);
        }

        if (from is not null)
        {
            request.Headers.Add("X-Forwarded-For", from);
        }

        return new StoryStep(actor, action, segment, expected, await OutcomeAsync(request, cancellationToken));
    }

    /// <summary>"200 allowed" or "STATUS reason" from a problem+json answer.</summary>
    public async Task<string> OutcomeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await _http.SendAsync(request, cancellationToken);
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return $"{status} allowed";
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("reason", out var reason) ? $"{status} {reason.GetString()}" : $"{status}";
        }
        catch (JsonException)
        {
            return $"{status}";
        }
    }

    public string Posture(string device, string segment, SigningCredentials key, string? user) => DevPostures.Mint(new DevPostureRequest
    {
        DeviceId = device,
        Segment = segment,
        Compliant = true,
        Managed = true,
        Risk = "low",
        User = user,
        Issuer = DemoConfig.PostureIssuer,
        Audience = "ztgw",
        Lifetime = TimeSpan.FromMinutes(15),
    }, key, time);

    private async Task<string> UserTokenAsync(string user, bool mfa, CancellationToken cancellationToken) =>
        await TokenAsync([new("grant_type", "password"), new("username", user), new("password", DevIdentityProvider.DevPassword), new("mfa", mfa ? "true" : "false")], cancellationToken);

    private async Task<string> WorkloadTokenAsync(string client, CancellationToken cancellationToken) =>
        await TokenAsync([new("grant_type", "client_credentials"), new("client_id", client), new("client_secret", "dev-secret")], cancellationToken);

    private async Task<string> TokenAsync(KeyValuePair<string, string>[] form, CancellationToken cancellationToken)
    {
        using var content = new FormUrlEncodedContent(form);
        using var response = await _http.PostAsync(new Uri(network.IdentityProvider.Authority + "/token"), content, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}
