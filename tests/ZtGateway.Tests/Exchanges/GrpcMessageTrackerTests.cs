using System.Buffers.Binary;
using ZtGateway.Enforcement.Exchanges;

namespace ZtGateway.Tests.Exchanges;

/// <summary>The gRPC message tracker finds every end of a length-prefixed message however the body is cut into writes.</summary>
public sealed class GrpcMessageTrackerTests
{
    private static byte[] Message(int length, bool compressed = false)
    {
        var message = new byte[5 + length];
        message[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(1), (uint)length);
        for (var i = 0; i < length; i++)
        {
            message[5 + i] = (byte)(i * 13);
        }

        return message;
    }

    private static (byte[] Body, List<int> Ends) Body(params int[] lengths)
    {
        var all = new List<byte>();
        var ends = new List<int>();
        foreach (var length in lengths)
        {
            all.AddRange(Message(length, compressed: length % 2 == 1));
            ends.Add(all.Count);
        }

        return ([.. all], ends);
    }

    private static List<int> Boundaries(byte[] body, IEnumerable<int> cuts)
    {
        var tracker = new GrpcMessageTracker();
        var found = new List<int>();
        var start = 0;
        foreach (var end in cuts.Append(body.Length))
        {
            var chunk = body.AsSpan(start, end - start);
            var offset = 0;
            while (offset < chunk.Length)
            {
                var taken = tracker.Advance(chunk[offset..], stopAtBoundary: true);
                if (taken == 0)
                {
                    // At a boundary: the next byte starts the next message (no message is one byte long).
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

    [Fact]
    public void EveryMessageEnd_IsFound_WhateverByteTheBodyIsCutAt()
    {
        var (body, ends) = Body(0, 1, 4, 255, 256, 0, 300, 7);
        for (var cut = 0; cut <= body.Length; cut++)
        {
            Assert.Equal(ends, Boundaries(body, [cut]));
        }

        for (var a = 0; a < 40; a++)
        {
            for (var b = a; b < body.Length; b += 11)
            {
                Assert.Equal(ends, Boundaries(body, [a, b]));
            }
        }
    }

    [Theory]
    [InlineData(65_536)]
    [InlineData(16_777_216)]
    public void LargeMessages_EndWhereTheirPrefixSays(int length)
    {
        var (body, ends) = Body(length, 3);
        foreach (var chunk in new[] { 16_384, 1_000_003 })
        {
            Assert.Equal(ends, Boundaries(body, Enumerable.Range(1, (body.Length - 1) / chunk).Select(i => i * chunk)));
        }
    }

    [Fact]
    public void WithinAMessage_ItIsNotAtABoundary_UntilItsLastByte()
    {
        var message = Message(20);
        var tracker = new GrpcMessageTracker();
        Assert.True(tracker.AtBoundary);
        for (var i = 0; i < message.Length - 1; i++)
        {
            tracker.Advance(message.AsSpan(i, 1));
            Assert.False(tracker.AtBoundary, $"after byte {i}");
        }

        tracker.Advance(message.AsSpan(message.Length - 1));
        Assert.True(tracker.AtBoundary);
    }
}
