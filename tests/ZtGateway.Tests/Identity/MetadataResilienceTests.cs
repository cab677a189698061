using System.Net;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Identity;

/// <summary>Metadata and key requests: retried when the failure may pass, never otherwise, and cut off by the breaker.</summary>
public sealed class MetadataResilienceTests
{
    private const string Address = "https://idp.test/.well-known/openid-configuration";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Retries_ServerErrors_ThenReturnsTheDocument()
    {
        var handler = new ScriptedHandler(HttpStatusCode.ServiceUnavailable, HttpStatusCode.InternalServerError, HttpStatusCode.OK);

        var document = await Retriever(handler).GetDocumentAsync(Address, CancellationToken.None);

        Assert.Equal("{\"ok\":true}", document);
        Assert.Equal(3, handler.Calls);
    }

    [Fact]
    public async Task Retries_ConnectionFailures_UpToTwice()
    {
        var handler = new ScriptedHandler(null, null, null, HttpStatusCode.OK);

        await Assert.ThrowsAsync<HttpRequestException>(() => Retriever(handler).GetDocumentAsync(Address, CancellationToken.None));

        Assert.Equal(1 + MetadataResilience.MaxRetryAttempts, handler.Calls);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task DoesNotRetry_ClientErrors(HttpStatusCode status)
    {
        var handler = new ScriptedHandler(status, HttpStatusCode.OK);

        var failure = await Assert.ThrowsAsync<MetadataStatusException>(() => Retriever(handler).GetDocumentAsync(Address, CancellationToken.None));

        Assert.Equal(status, failure.StatusCode);
        Assert.Equal(1, handler.Calls);
    }

    [Fact(Timeout = 30_000)]
    public async Task TimesOut_AHangingAttempt_AndRetries()
    {
        var handler = new ScriptedHandler(ScriptedHandler.Hang, HttpStatusCode.OK);

        var document = await Retriever(handler).GetDocumentAsync(Address, CancellationToken.None);

        Assert.Equal("{\"ok\":true}", document);
        Assert.Equal(2, handler.Calls);
    }

    [Fact]
    public async Task OpensTheCircuit_AfterRepeatedFailures_AndLetsATrialThroughAfterTheBreak()
    {
        var handler = new ScriptedHandler([.. Enumerable.Repeat<HttpStatusCode?>(null, MetadataResilience.BreakerMinimumThroughput), HttpStatusCode.OK]);
        var retriever = Retriever(handler);

        await Assert.ThrowsAsync<HttpRequestException>(() => retriever.GetDocumentAsync(Address, CancellationToken.None));
        await Assert.ThrowsAnyAsync<Exception>(() => retriever.GetDocumentAsync(Address, CancellationToken.None));
        var callsWhenOpened = handler.Calls;
        await Assert.ThrowsAsync<BrokenCircuitException>(() => retriever.GetDocumentAsync(Address, CancellationToken.None));
        var callsWhileOpen = handler.Calls - callsWhenOpened;
        _time.Advance(MetadataResilience.BreakDuration);
        var afterBreak = await retriever.GetDocumentAsync(Address, CancellationToken.None);

        Assert.Equal(MetadataResilience.BreakerMinimumThroughput, callsWhenOpened);
        Assert.Equal(0, callsWhileOpen);
        Assert.Equal("{\"ok\":true}", afterBreak);
    }

    [Theory]
    [InlineData("http://idp.test/.well-known/openid-configuration")]
    [InlineData("file:///etc/passwd")]
    [InlineData("not a url")]
    public async Task Refuses_AddressesThatAreNotHttps_WithoutSending(string address)
    {
        var handler = new ScriptedHandler(HttpStatusCode.OK);

        await Assert.ThrowsAsync<ArgumentException>(() => Retriever(handler).GetDocumentAsync(address, CancellationToken.None));

        Assert.Equal(0, handler.Calls);
    }

    private MetadataDocumentRetriever Retriever(ScriptedHandler handler)
        => new(new HttpClient(handler), MetadataResilience.Create(_time), requireHttps: true);

    /// <summary>Answers each request with the next scripted status; null fails the connection.</summary>
    private sealed class ScriptedHandler(params HttpStatusCode?[] script) : HttpMessageHandler
    {
        public const HttpStatusCode Hang = (HttpStatusCode)599;

        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref _calls) - 1;
            var status = script[Math.Min(call, script.Length - 1)];
            if (status is null)
            {
                throw new HttpRequestException("connection refused");
            }

            if (status == Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return new HttpResponseMessage(status.Value) { Content = new StringContent("{\"ok\":true}") };
        }
    }
}
