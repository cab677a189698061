using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace ZtGateway.Enforcement.Exchanges;

/// <summary>
/// Stands in for the listener's <see cref="IHttpResponseBodyFeature"/> of an allowed gRPC call. The messages of the
/// response pass through unchanged and are followed (<see cref="GrpcMessageTracker"/>); once the exchange is ended, the
/// next message boundary completes the response with the gateway's trailers (<c>grpc-status</c>, <c>grpc-message</c>
/// the reason code), nothing more of the upstream's is relayed, and the HTTP/2 stream is then reset with
/// <c>NO_ERROR</c>, which cancels the upstream call.
/// </summary>
internal sealed class GrpcResponseGuard : Stream, IHttpResponseBodyFeature
{
    private readonly IHttpResponseBodyFeature _inner;
    private readonly HttpContext _context;
    private readonly SemaphoreSlim _write = new(1, 1);
    private GrpcMessageTracker _messages;
    private PipeWriter? _writer;
    private volatile bool _closed;
    private (int Status, string Message)? _ending;

    public GrpcResponseGuard(IHttpResponseBodyFeature inner, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(context);
        _inner = inner;
        _context = context;
    }

    /// <summary>True once the gateway's trailers went out.</summary>
    public bool Closed => _closed;

    /// <summary>
    /// Ends the call with <paramref name="grpcStatus"/> and <paramref name="message"/>: now if the body is between two
    /// messages, else once the message in flight is through. The response must have started (the upstream answered).
    /// </summary>
    public async Task EndAsync(int grpcStatus, string message)
    {
        _ending = (grpcStatus, message);
        await _write.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_closed && _messages.AtBoundary)
            {
                await FinishAsync(grpcStatus, message).ConfigureAwait(false);
            }
        }
        finally
        {
            _write.Release();
        }
    }

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    void IHttpResponseBodyFeature.DisableBuffering() => _inner.DisableBuffering();

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken) => _inner.StartAsync(cancellationToken);

    // A file is not a gRPC message stream; it goes through the tracked path so that no byte escapes the count.
    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        SendFileFallback.SendFileAsync(this, path, offset, count, cancellationToken);

    async Task IHttpResponseBodyFeature.CompleteAsync()
    {
        if (_writer is not null)
        {
            await _writer.FlushAsync().ConfigureAwait(false);
        }

        if (!_closed)
        {
            await _inner.CompleteAsync().ConfigureAwait(false);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _write.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closed)
            {
                throw new IOException("The call was ended by the gateway.");
            }

            if (_ending is not { } ending)
            {
                _messages.Advance(buffer.Span);
                await _inner.Stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
                return;
            }

            var through = _messages.Advance(buffer.Span, stopAtBoundary: true);
            if (through > 0)
            {
                await _inner.Stream.WriteAsync(buffer[..through], cancellationToken).ConfigureAwait(false);
            }

            if (_messages.AtBoundary)
            {
                await FinishAsync(ending.Status, ending.Message).ConfigureAwait(false);
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

    public override Task FlushAsync(CancellationToken cancellationToken) => _closed ? Task.CompletedTask : _inner.Stream.FlushAsync(cancellationToken);

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override bool CanRead => false;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private async Task FinishAsync(int grpcStatus, string message)
    {
        try
        {
            var response = _context.Response;
            response.AppendTrailer(GrpcDenialWriter.StatusHeader, grpcStatus.ToString(CultureInfo.InvariantCulture));
            response.AppendTrailer(GrpcDenialWriter.MessageHeader, message);
            await _inner.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            _closed = true;

            // RFC 9113 section 8.1: a complete response may be followed by RST_STREAM NO_ERROR, which here also cancels
            // the forwarder's upstream call.
            if (_context.Features.Get<IHttpResetFeature>() is { } reset)
            {
                reset.Reset(0);
            }
            else
            {
                _context.Abort();
            }
        }
    }
}
