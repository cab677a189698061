using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ZtGateway.Tests.Identity;

namespace ZtGateway.Tests.KeySets;

/// <summary>
/// A real Kestrel on 127.0.0.1 publishing a key set at <c>/jwks</c> (and, for discovery issuers, a discovery document
/// naming it under any authority path), counting the requests it receives. What it answers can be changed: a set, raw
/// text, a status, an endless chunked body, a hang, a cut connection; it can hold answers back, stop and start again
/// on the same port.
/// </summary>
internal sealed class KeySetServer : IAsyncDisposable
{
    public const string DiscoverySuffix = ".well-known/openid-configuration";

    /// <summary>What an endless answer writes before it stops writing, never ending its body.</summary>
    public const long EndlessBytes = 4L * 1024 * 1024;

    private WebApplication? _app;
    private int _jwksRequests;
    private int _discoveryRequests;
    private long _lastContentLength = -1;
    private volatile Answer _answer = new(AnswerKind.Text, "{\"keys\":[]}");
    private volatile TaskCompletionSource? _hold;
    private TaskCompletionSource<bool> _endless = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private KeySetServer(int port) => Port = port;

    private enum AnswerKind
    {
        Text,
        ChunkedText,
        Status,
        Endless,
        Hang,
        Abort,
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public Uri JwksUri => new(BaseUrl + "/jwks");

    /// <summary>Requests of the key set received, answered or not.</summary>
    public int JwksRequests => Volatile.Read(ref _jwksRequests);

    /// <summary>Requests of a discovery document received.</summary>
    public int DiscoveryRequests => Volatile.Read(ref _discoveryRequests);

    /// <summary>The Content-Length of the last key set answer that had a body; null when it had none (chunked).</summary>
    public long? LastContentLength => Interlocked.Read(ref _lastContentLength) is var length && length >= 0 ? length : null;

    /// <summary>Completes when the last endless answer started, telling whether it had a Content-Length.</summary>
    public Task<bool> EndlessStarted => _endless.Task;

    public static async Task<KeySetServer> StartNewAsync(params TestKey[] keys)
    {
        var server = new KeySetServer(LocalIdentityProvider.ReservePort());
        server.Publish(keys);
        await server.StartAsync();
        return server;
    }

    /// <summary>Publishes exactly these keys, with Content-Length.</summary>
    public void Publish(params TestKey[] keys) => _answer = new(AnswerKind.Text, TestKey.JwksJson(keys));

    /// <summary>Publishes a raw body, with Content-Length.</summary>
    public void PublishRaw(string body) => _answer = new(AnswerKind.Text, body);

    /// <summary>Publishes a raw body in chunks, without Content-Length.</summary>
    public void PublishChunked(string body) => _answer = new(AnswerKind.ChunkedText, body);

    /// <summary>Answers with this status and no key set.</summary>
    public void Fail(int status) => _answer = new(AnswerKind.Status, status.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Answers with a chunked body that never ends: <see cref="EndlessBytes"/>, then nothing, until the client goes away.</summary>
    public void PublishEndless()
    {
        _endless = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _answer = new(AnswerKind.Endless, string.Empty);
    }

    /// <summary>Never answers, until the client gives up.</summary>
    public void Hang() => _answer = new(AnswerKind.Hang, string.Empty);

    /// <summary>Cuts the connection of the next <paramref name="count"/> requests, then answers as set before.</summary>
    public void Abort(int count)
    {
        var after = _answer;
        _answer = new(AnswerKind.Abort, string.Empty, count, after);
    }

    /// <summary>Requests wait, unanswered, until <see cref="Release"/>.</summary>
    public void Hold() => _hold = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Interlocked.Exchange(ref _hold, null)?.TrySetResult();

    public async Task StartAsync()
    {
        var app = LocalIdentityProvider.CreateApp(BaseUrl);
        app.MapGet("/jwks", AnswerKeySetAsync);
        app.MapGet("/{**path}", (string path) =>
        {
            if (!path.EndsWith(DiscoverySuffix, StringComparison.Ordinal))
            {
                return Results.NotFound();
            }

            Interlocked.Increment(ref _discoveryRequests);
            var prefix = path[..^DiscoverySuffix.Length].TrimEnd('/');
            return Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = prefix.Length == 0 ? BaseUrl : BaseUrl + "/" + prefix,
                ["jwks_uri"] = JwksUri.ToString(),
                ["id_token_signing_alg_values_supported"] = new[] { "RS256", "ES256" },
            });
        });
        await app.StartAsync();
        _app = app;
    }

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            Release();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task AnswerKeySetAsync(HttpContext context)
    {
        Interlocked.Increment(ref _jwksRequests);
        var aborted = context.RequestAborted;
        if (_hold is { } hold)
        {
            await hold.Task.WaitAsync(aborted);
        }

        var answer = _answer;
        if (answer.Kind == AnswerKind.Abort)
        {
            if (Interlocked.Decrement(ref answer.Remaining) <= 0)
            {
                _answer = answer.After!;
            }

            context.Abort();
            return;
        }

        context.Response.ContentType = "application/json";
        context.Response.OnStarting(() =>
        {
            Interlocked.Exchange(ref _lastContentLength, context.Response.ContentLength ?? -1);
            return Task.CompletedTask;
        });
        switch (answer.Kind)
        {
            case AnswerKind.Text:
                var bytes = Encoding.UTF8.GetBytes(answer.Body);
                context.Response.ContentLength = bytes.Length;
                await context.Response.Body.WriteAsync(bytes, aborted);
                break;
            case AnswerKind.ChunkedText:
                var half = answer.Body.Length / 2;
                await context.Response.WriteAsync(answer.Body[..half], aborted);
                await context.Response.Body.FlushAsync(aborted);
                await context.Response.WriteAsync(answer.Body[half..], aborted);
                break;
            case AnswerKind.Status:
                context.Response.StatusCode = int.Parse(answer.Body, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case AnswerKind.Endless:
                await WriteEndlessAsync(context);
                break;
            case AnswerKind.Hang:
                try
                {
                    await Task.Delay(Timeout.Infinite, aborted);
                }
                catch (OperationCanceledException)
                {
                }

                break;
        }
    }

    // Writes EndlessBytes without Content-Length, then waits for the client to go away: the body never ends.
    private async Task WriteEndlessAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var chunk = Encoding.ASCII.GetBytes(new string(' ', 16 * 1024));
        try
        {
            await context.Response.WriteAsync("{\"keys\":[", aborted);
            await context.Response.Body.FlushAsync(aborted);
            _endless.TrySetResult(context.Response.Headers.ContentLength is not null);
            for (long written = 0; written < EndlessBytes; written += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk, aborted);
            }

            await context.Response.Body.FlushAsync(aborted);
            await Task.Delay(Timeout.Infinite, aborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
        }
    }

    private sealed class Answer(AnswerKind kind, string body, int remaining = 0, Answer? after = null)
    {
        public int Remaining = remaining;

        public AnswerKind Kind { get; } = kind;

        public string Body { get; } = body;

        public Answer? After { get; } = after;
    }
}
