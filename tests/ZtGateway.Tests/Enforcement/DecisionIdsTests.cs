using System.Collections.Concurrent;
using ZtGateway.Enforcement;

namespace ZtGateway.Tests.Enforcement;

public sealed class DecisionIdsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_123_456);

    [Fact]
    public void Id_IsAVersion7Uuid_CarryingTheTimeInMilliseconds()
    {
        var id = DecisionIds.Next(Now);

        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id);
        var hex = id.Replace("-", string.Empty, StringComparison.Ordinal);
        Assert.Equal(1_800_000_123_456, Convert.ToInt64(hex[..12], 16));
        Assert.Equal(7, Guid.Parse(id).Version);
    }

    [Fact]
    public void Ids_AreDistinct_WithinOneMillisecond_AcrossBlocksAndThreads()
    {
        var ids = new ConcurrentBag<string>();
        Parallel.For(0, 4, _ =>
        {
            // More than one block of random bits per thread.
            for (var i = 0; i < 1_000; i++)
            {
                ids.Add(DecisionIds.Next(Now));
            }
        });

        Assert.Equal(4_000, ids.Distinct().Count());
        // The random part varies in every random position, so no bits are stuck.
        var randomParts = ids.Select(id => id.Replace("-", string.Empty, StringComparison.Ordinal)[12..]).ToList();
        for (var position = 0; position < 20; position++)
        {
            if (position is 0 or 4)
            {
                continue; // version and variant nibbles
            }

            Assert.True(randomParts.Select(p => p[position]).Distinct().Count() > 8, $"hex digit {position} of the random part barely varies");
        }
    }
}
