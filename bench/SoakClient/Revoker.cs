using System.Diagnostics;
using System.Net.Http.Headers;

namespace SoakClient;

/// <summary>
/// The SET cycle for the revoked user: mint a fresh token for them (allowed), let it be used for a while, then
/// deliver a CAEP <c>session-revoked</c> SET to the management listener (every token of that user issued before
/// it is now refused <c>token-revoked</c>), wait past the SET's second, mint the next token, and so on. Tokens and
/// SETs come from <c>ztgw dev token</c> and <c>ztgw dev signal</c>, so they are signed exactly as the product
/// documents. Every delivery attempt is a line of <c>sets.tsv</c>, flushed at once: the script waits on it to
/// kill the gateway right after a revocation was acknowledged.
/// </summary>
internal sealed class Revoker(RevokerOptions options, HttpClient management, TimeProvider time, TextWriter log)
{
    private readonly Lock _lock = new();
    private readonly List<(int Index, string Token)> _revoked = [];
    private volatile RevokeeToken? _current;

    /// <summary>The token in use now (null until the first is minted).</summary>
    public RevokeeToken? Current => _current;

    /// <summary>SETs acknowledged with 202.</summary>
    public int Acknowledged { get; private set; }

    /// <summary>Delivery attempts that did not end in 202.</summary>
    public int Failed { get; private set; }

    /// <summary>A revoked token to send again: one of the last three most of the time, so the newest revocations are tried often.</summary>
    public (int Index, string Token)? PickRevoked(Random random)
    {
        lock (_lock)
        {
            if (_revoked.Count == 0)
            {
                return null;
            }

            var recent = Math.Min(3, _revoked.Count);
            return random.NextDouble() < 0.5
                ? _revoked[_revoked.Count - 1 - random.Next(recent)]
                : _revoked[random.Next(_revoked.Count)];
        }
    }

    /// <summary>Mints the first token, so that the revoked user has one before traffic starts.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _current = new RevokeeToken(0, await MintTokenAsync(cancellationToken));
    }

    /// <summary>Runs the cycle until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(StreamWriter sets, CancellationToken cancellationToken)
    {
        try
        {
            var index = 0;
            while (true)
            {
                var current = _current ?? throw new InvalidOperationException("StartAsync first");
                await Task.Delay(options.Every, time, cancellationToken);
                await DeliverAsync(current.Index, sets, cancellationToken);
                lock (_lock)
                {
                    _revoked.Add((current.Index, current.Token));
                }

                // Revocation covers tokens issued at or before the SET's second: the next token must be from a later one.
                await Task.Delay(TimeSpan.FromMilliseconds(1100), time, cancellationToken);
                index++;
                _current = new RevokeeToken(index, await MintTokenAsync(cancellationToken));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(int token, StreamWriter sets, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var set = await ZtgwAsync(cancellationToken, "dev", "signal", "--config", options.Config, "--event", "session-revoked", "--sub", options.Subject);
            var posted = Clock.NowUs(time);
            int status;
            var error = string.Empty;
            try
            {
                using var content = new StringContent(set);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/secevent+jwt");
                using var response = await management.PostAsync(options.Management, content, cancellationToken);
                status = (int)response.StatusCode;
                if (status != 202)
                {
                    error = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException
                || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                status = 0;
                error = Clock.Describe(ex);
            }

            var delivery = new SetDelivery { Token = token, Attempt = attempt, PostUs = posted, EndUs = Clock.NowUs(time), Status = status, Error = error };
            lock (sets)
            {
                sets.WriteLine(delivery.Format());
            }

            if (status == 202)
            {
                Acknowledged++;
                return;
            }

            Failed++;
            await log.WriteLineAsync($"SET for token {token}, attempt {attempt}: {(status == 0 ? error : status.ToString(System.Globalization.CultureInfo.InvariantCulture) + " " + error)}");
            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
        }
    }

    private Task<string> MintTokenAsync(CancellationToken cancellationToken) =>
        ZtgwAsync(cancellationToken, "dev", "token", "--config", options.Config, "--sub", options.Subject, "--groups", options.Groups,
            "--amr", "pwd,mfa", "--auth-age", "1m", "--lifetime", "2h");

    private async Task<string> ZtgwAsync(CancellationToken cancellationToken, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(options.Ztgw);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet " + options.Ztgw);
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ztgw {string.Join(' ', args[..2])} exited {process.ExitCode}: {(await errors).Trim()}");
        }

        return (await output).Trim();
    }
}

/// <summary>What the revoker needs: the ztgw command, the config with the development keys, who is revoked, where SETs go.</summary>
internal sealed record RevokerOptions
{
    /// <summary>Path of <c>ztgw.dll</c>.</summary>
    public required string Ztgw { get; init; }

    public required string Config { get; init; }

    public required string Subject { get; init; }

    public required string Groups { get; init; }

    /// <summary>The management listener's <c>/ssf/events</c>.</summary>
    public required Uri Management { get; init; }

    /// <summary>How long each token is used before its SET is sent.</summary>
    public required TimeSpan Every { get; init; }
}

/// <summary>The revoked user's token in use, numbered from 0.</summary>
internal sealed record RevokeeToken(int Index, string Token);

/// <summary>Wall-clock stamps shared by the client and the script.</summary>
internal static class Clock
{
    public static long NowUs(TimeProvider time) => (time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    /// <summary>An exception and its inner ones on one line, as a transport error is recorded.</summary>
    public static string Describe(Exception exception)
    {
        var parts = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            parts.Add(e.GetType().Name + ": " + e.Message);
        }

        return string.Join(" <- ", parts);
    }
}
