using Microsoft.AspNetCore.Http.Features;

namespace ZtGateway.Enforcement.Exchanges;

/// <summary>
/// Stands in for the listener's <see cref="IHttpUpgradeFeature"/> of an allowed WebSocket request, so that the stream
/// the forwarder relays the upgraded connection through is a <see cref="WebSocketGuardStream"/> that can end it.
/// </summary>
internal sealed class WebSocketUpgradeGuard(IHttpUpgradeFeature inner, OpenExchange exchange) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync()
    {
        var client = await inner.UpgradeAsync();
        return exchange.Guard(client);
    }
}

/// <summary>
/// Stands in for the listener's <see cref="IHttpExtendedConnectFeature"/> of an allowed WebSocket over HTTP/2
/// (RFC 8441), for the same reason as <see cref="WebSocketUpgradeGuard"/>: the frames are the same.
/// </summary>
internal sealed class ExtendedConnectGuard(IHttpExtendedConnectFeature inner, OpenExchange exchange) : IHttpExtendedConnectFeature
{
    public bool IsExtendedConnect => inner.IsExtendedConnect;

    public string? Protocol => inner.Protocol;

    public async ValueTask<Stream> AcceptAsync()
    {
        var client = await inner.AcceptAsync();
        return exchange.Guard(client);
    }
}

/// <summary>
/// The caller's side of an upgraded WebSocket connection, as the forwarder sees it. Bytes pass through unchanged in
/// both directions while the frames going to the caller are followed (<see cref="WebSocketFrameTracker"/>). Once the
/// exchange is ended, the next frame boundary of that direction gets a close frame (1008 policy violation, the reason
/// code as its reason) and nothing more is relayed: writes are refused and the pending read of the caller's side
/// fails, which makes the forwarder stop both directions and close the connection.
/// </summary>
internal sealed class WebSocketGuardStream : Stream
{
    /// <summary>Close code 1008: the endpoint is terminating the connection because of a policy violation.</summary>
    public const ushort PolicyViolation = 1008;

    private readonly Stream _inner;
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly CancellationTokenSource _readsEnded = new();
    private WebSocketFrameTracker _frames;
    private volatile string? _endReason;
    private volatile bool _closed;
    private CancellationTokenSource? _linked;
    private CancellationToken _linkedFor;

    public WebSocketGuardStream(Stream inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <summary>True once the close frame went out.</summary>
    public bool Closed => _closed;

    /// <summary>
    /// Ends the exchange: writes the close frame now if the caller's direction is between frames, else as soon as the
    /// frame in flight is through. Completes when the close frame is out, or at once when a frame is in flight (the
    /// write that finishes it sends the close frame).
    /// </summary>
    public async Task EndAsync(string reason)
    {
        _endReason = reason;
        await _write.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_closed && _frames.AtBoundary)
            {
                await CloseAsync(reason).ConfigureAwait(false);
            }
        }
        finally
        {
            _write.Release();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _write.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closed)
            {
                throw new IOException("The exchange was ended by the gateway.");
            }

            if (_endReason is not { } reason)
            {
                _frames.Advance(buffer.Span);
                await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
                return;
            }

            // Ending: the rest of the frame in flight goes out, then the close frame; what follows it never does.
            var through = _frames.Advance(buffer.Span, stopAtBoundary: true);
            if (through > 0)
            {
                await _inner.WriteAsync(buffer[..through], cancellationToken).ConfigureAwait(false);
            }

            if (_frames.AtBoundary)
            {
                await CloseAsync(reason).ConfigureAwait(false);
            }
        }
        finally
        {
            _write.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_closed)
        {
            throw new IOException("The exchange was ended by the gateway.");
        }

        try
        {
            return await _inner.ReadAsync(buffer, ReadToken(cancellationToken)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_readsEnded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException("The exchange was ended by the gateway.");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => _closed ? Task.CompletedTask : _inner.FlushAsync(cancellationToken);

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _linked?.Dispose();
            _readsEnded.Dispose();
        }

        base.Dispose(disposing);
    }

    // The forwarder passes the same token to every read of a connection: one linked source serves them all.
    private CancellationToken ReadToken(CancellationToken caller)
    {
        if (!caller.CanBeCanceled)
        {
            return _readsEnded.Token;
        }

        if (_linked is null || _linkedFor != caller)
        {
            _linked?.Dispose();
            _linked = CancellationTokenSource.CreateLinkedTokenSource(caller, _readsEnded.Token);
            _linkedFor = caller;
        }

        return _linked.Token;
    }

    private async Task CloseAsync(string reason)
    {
        var frame = new byte[WebSocketFrameTracker.MaxCloseFrame];
        var length = WebSocketFrameTracker.WriteClose(frame, PolicyViolation, reason);
        try
        {
            await _inner.WriteAsync(frame.AsMemory(0, length)).ConfigureAwait(false);
            await _inner.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _closed = true;
            await _readsEnded.CancelAsync().ConfigureAwait(false);
        }
    }
}
