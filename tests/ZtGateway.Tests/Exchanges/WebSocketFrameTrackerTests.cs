using System.Net.WebSockets;
using ZtGateway.Enforcement.Exchanges;

namespace ZtGateway.Tests.Exchanges;

/// <summary>
/// The frame tracker finds every frame boundary of a server's WebSocket stream however the bytes are cut into writes:
/// 7-, 16- and 64-bit payload lengths, masked and unmasked frames, empty payloads, and frames written by the runtime's
/// own WebSocket implementation.
/// </summary>
public sealed class WebSocketFrameTrackerTests
{
    private static byte[] Frame(int payload, int lengthBits, bool masked = false, byte opcode = 0x2)
    {
        var header = new List<byte> { (byte)(0x80 | opcode) };
        var mask = masked ? 0x80 : 0;
        switch (lengthBits)
        {
            case 7:
                header.Add((byte)(mask | payload));
                break;
            case 16:
                header.Add((byte)(mask | 126));
                header.Add((byte)(payload >> 8));
                header.Add((byte)payload);
                break;
            default:
                header.Add((byte)(mask | 127));
                for (var shift = 56; shift >= 0; shift -= 8)
                {
                    header.Add((byte)((long)payload >> shift));
                }

                break;
        }

        if (masked)
        {
            header.AddRange([0x11, 0x22, 0x33, 0x44]);
        }

        var body = Enumerable.Range(0, payload).Select(i => (byte)(i * 7)).ToArray();
        return [.. header, .. body];
    }

    // The offsets (from the start of the stream) at which the tracker reports a frame end, feeding the given chunks.
    private static List<int> Boundaries(byte[] stream, IEnumerable<int> cuts)
    {
        var tracker = new WebSocketFrameTracker();
        var found = new List<int>();
        var start = 0;
        foreach (var end in cuts.Append(stream.Length))
        {
            var chunk = stream.AsSpan(start, end - start);
            var offset = 0;
            while (offset < chunk.Length)
            {
                var taken = tracker.Advance(chunk[offset..], stopAtBoundary: true);
                if (taken == 0)
                {
                    // At a boundary: the next byte starts the next frame (no frame is one byte long).
                    Assert.True(tracker.AtBoundary);
                    Assert.Equal(1, tracker.Advance(chunk.Slice(offset, 1)));
                    taken = 1;
                }

                offset += taken;
                if (tracker.AtBoundary)
                {
                    found.Add(start + offset);
                }
            }

            start = end;
        }

        return found;
    }

    private static (byte[] Stream, List<int> Ends) Concatenate(params byte[][] frames)
    {
        var ends = new List<int>();
        var all = new List<byte>();
        foreach (var frame in frames)
        {
            all.AddRange(frame);
            ends.Add(all.Count);
        }

        return ([.. all], ends);
    }

    [Fact]
    public void EveryBoundary_IsFound_WhateverByteTheStreamIsCutAt()
    {
        var (stream, ends) = Concatenate(
            Frame(0, 7), Frame(5, 7), Frame(125, 7, masked: true), Frame(126, 16), Frame(300, 16, masked: true), Frame(2, 64), Frame(0, 16),
            Frame(9, 64, masked: true), Frame(4, 7, opcode: 0x9));
        Assert.True(tracker(stream).AtBoundary);
        for (var cut = 0; cut <= stream.Length; cut++)
        {
            Assert.Equal(ends, Boundaries(stream, [cut]));
        }

        // Three writes, cut at every pair of offsets within the first two frames with a header of extended length.
        var firstExtended = ends[2];
        for (var a = firstExtended; a < ends[4]; a += 3)
        {
            for (var b = a; b < ends[5]; b += 5)
            {
                Assert.Equal(ends, Boundaries(stream, [a, b]));
            }
        }

        static WebSocketFrameTracker tracker(byte[] all)
        {
            var t = new WebSocketFrameTracker();
            t.Advance(all);
            return t;
        }
    }

    [Theory]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    [InlineData(200_000)]
    public void LongPayloads_EndWhereTheirLengthSays(int payload)
    {
        var lengthBits = payload < 126 ? 7 : payload <= 65_535 ? 16 : 64;
        var (stream, ends) = Concatenate(Frame(payload, lengthBits), Frame(1, 7));
        foreach (var chunk in new[] { 1, 7, 4096, stream.Length })
        {
            var cuts = Enumerable.Range(1, (stream.Length - 1) / chunk).Select(i => i * chunk).Where(c => c < stream.Length);
            Assert.Equal(ends, Boundaries(stream, cuts));
        }
    }

    [Fact]
    public void AStreamWithinAFrame_IsNotAtABoundary_UntilItsLastByte()
    {
        var frame = Frame(300, 16);
        var tracker = new WebSocketFrameTracker();
        for (var i = 0; i < frame.Length - 1; i++)
        {
            tracker.Advance(frame.AsSpan(i, 1));
            Assert.False(tracker.AtBoundary, $"after byte {i}");
        }

        tracker.Advance(frame.AsSpan(frame.Length - 1));
        Assert.True(tracker.AtBoundary);
    }

    [Fact]
    public void AtABoundary_StoppingConsumesNothing()
    {
        var tracker = new WebSocketFrameTracker();
        Assert.Equal(0, tracker.Advance(Frame(3, 7), stopAtBoundary: true));
        Assert.Equal(Frame(3, 7).Length, tracker.Advance(Frame(3, 7)));
        Assert.True(tracker.AtBoundary);
    }

    [Fact]
    public async Task FramesOfTheRuntimesWebSocket_EndWhereItsMessagesEnd()
    {
        var sent = new MemoryStream();
        using (var server = WebSocket.CreateFromStream(sent, new WebSocketCreationOptions { IsServer = true }))
        {
            foreach (var size in new[] { 0, 10, 125, 126, 1000, 65_535, 65_536, 100_000 })
            {
                await server.SendAsync(new byte[size], WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            }

            // A message in two fragments: two frames.
            await server.SendAsync(new byte[50], WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
            await server.SendAsync(new byte[70], WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }

        var stream = sent.ToArray();
        var found = Boundaries(stream, Enumerable.Range(1, stream.Length / 997).Select(i => i * 997));
        Assert.Equal(10, found.Count);
        Assert.Equal(stream.Length, found[^1]);
    }

    [Fact]
    public async Task TheCloseFrame_IsReadByAWebSocketClient_As1008WithTheReason()
    {
        var frame = new byte[WebSocketFrameTracker.MaxCloseFrame];
        var length = WebSocketFrameTracker.WriteClose(frame, 1008, "token-revoked");
        using var client = WebSocket.CreateFromStream(new MemoryStream(frame, 0, length), new WebSocketCreationOptions { IsServer = false });
        var result = await client.ReceiveAsync(new byte[16], CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
        Assert.Equal("token-revoked", result.CloseStatusDescription);
    }
}
