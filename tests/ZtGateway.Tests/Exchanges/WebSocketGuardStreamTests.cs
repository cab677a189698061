using ZtGateway.Enforcement.Exchanges;

namespace ZtGateway.Tests.Exchanges;

/// <summary>The caller's side of a guarded WebSocket: the close frame goes out at a frame boundary, and nothing after it.</summary>
public sealed class WebSocketGuardStreamTests
{
    private static byte[] Frame(params byte[] payload) => [0x82, (byte)payload.Length, .. payload];

    private static readonly byte[] Close = CloseFrame("device-quarantined");

    private static byte[] CloseFrame(string reason)
    {
        var frame = new byte[WebSocketFrameTracker.MaxCloseFrame];
        return frame[..WebSocketFrameTracker.WriteClose(frame, 1008, reason)];
    }

    [Fact]
    public async Task BetweenFrames_TheCloseFrameGoesOutAtOnce()
    {
        var caller = new MemoryStream();
        using var guard = new WebSocketGuardStream(caller);
        await guard.WriteAsync(Frame(1, 2, 3));
        await guard.EndAsync("device-quarantined");

        Assert.True(guard.Closed);
        Assert.Equal([.. Frame(1, 2, 3), .. Close], caller.ToArray());
        await Assert.ThrowsAsync<IOException>(async () => await guard.WriteAsync(Frame(4)));
        await Assert.ThrowsAsync<IOException>(async () => _ = await guard.ReadAsync(new byte[8]));
    }

    [Fact]
    public async Task WithinAFrame_TheFrameIsFinishedFirst_AndWhatFollowsIsDropped()
    {
        var caller = new MemoryStream();
        using var guard = new WebSocketGuardStream(caller);
        var frame = Frame(1, 2, 3, 4, 5, 6);
        await guard.WriteAsync(frame.AsMemory(0, 4));
        await guard.EndAsync("device-quarantined");
        Assert.False(guard.Closed);
        Assert.Equal(frame[..4], caller.ToArray());

        // The rest of the frame and the start of the next one arrive in one write: the frame ends, the close follows.
        await guard.WriteAsync((byte[])[.. frame[4..], .. Frame(9, 9)]);
        Assert.True(guard.Closed);
        Assert.Equal([.. frame, .. Close], caller.ToArray());
    }

    [Fact]
    public async Task APendingRead_FailsOnceTheCloseFrameIsOut()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        var writes = new MemoryStream();
        using var guard = new WebSocketGuardStream(new DuplexStream(pipe.Reader.AsStream(), writes));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = guard.ReadAsync(new byte[8], timeout.Token).AsTask();
        Assert.False(read.IsCompleted);
        await guard.EndAsync("token-revoked");
        await Assert.ThrowsAsync<IOException>(() => read);
        Assert.False(timeout.IsCancellationRequested);
        Assert.Equal(CloseFrame("token-revoked"), writes.ToArray());
    }

    private sealed class DuplexStream(Stream read, Stream write) : Stream
    {
        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => read.ReadAsync(buffer, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => write.WriteAsync(buffer, cancellationToken);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => read.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count) => write.Write(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
