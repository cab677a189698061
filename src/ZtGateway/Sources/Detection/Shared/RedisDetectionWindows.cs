using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;
using ZtGateway.Sources.Continuous.Shared;

namespace ZtGateway.Sources.Detection.Shared;

/// <summary>
/// The detector's windows on the shared state's Redis: one sorted set per subject and window,
/// <c>{prefix}:det:{digest}:{d|s|r}</c> (denials, segments, routes), scored by the time a member was seen, trimmed to the window and
/// to the newest limit + 1 members, expiring a window after the last batch; a finding is elected with <c>SET NX</c> on
/// <c>{prefix}:det:{digest}:f:{kind}</c> for a window. Every gateway's batch is one pipelined round trip.
/// </summary>
/// <remarks>
/// A subject is named by a digest, never by the principal or device id itself, so no id read from a token becomes part of a key.
/// The counts read back are numbers of members; a writer to Redis can make them larger (a false finding), never run code here.
/// </remarks>
internal sealed class RedisDetectionWindows : ISharedWindows
{
    private readonly RedisStateShare _share;
    private readonly string _prefix;

    public RedisDetectionWindows(RedisStateShare share)
    {
        ArgumentNullException.ThrowIfNull(share);
        _share = share;
        _prefix = share.Settings.Prefix + ":det:";
    }

    public bool Available => _share.Connected;

    public async Task<IReadOnlyList<long>?> AddAsync(IReadOnlyList<SharedWindowUpdate> updates, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(updates);
        if (!_share.Connected)
        {
            return null;
        }

        try
        {
            var batch = _share.Database.CreateBatch();
            var sent = new List<Task>(updates.Count * 5);
            var counts = new Task<long>?[updates.Count];
            for (var i = 0; i < updates.Count; i++)
            {
                var update = updates[i];
                var key = (RedisKey)(_prefix + Digest(update.Subject) + ":" + Suffix(update.Set));
                if (update.Members.Count > 0)
                {
                    sent.Add(batch.SortedSetAddAsync(key, [.. update.Members.Select(m => new SortedSetEntry(m.Key, m.Value.ToUnixTimeMilliseconds()))]));
                }

                var cutoff = (now - update.Window).ToUnixTimeMilliseconds();
                sent.Add(batch.SortedSetRemoveRangeByScoreAsync(key, double.NegativeInfinity, cutoff));
                sent.Add(batch.SortedSetRemoveRangeByRankAsync(key, 0, -(update.Limit + 2L)));
                var count = batch.SortedSetLengthAsync(key);
                counts[i] = count;
                sent.Add(count);
                sent.Add(batch.KeyExpireAsync(key, update.Window + TimeSpan.FromSeconds(1)));
            }

            batch.Execute();
            await Task.WhenAll(sent).WaitAsync(cancellationToken);
            _share.Reachable();
            return [.. counts.Select(c => c!.Result)];
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException)
        {
            _share.Unreachable(ex.Message);
            return null;
        }
    }

    public async Task<bool?> TryElectAsync(string subject, string kind, TimeSpan hold, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(kind);
        if (!_share.Connected)
        {
            return null;
        }

        try
        {
            var key = (RedisKey)(_prefix + Digest(subject) + ":f:" + kind);
            return await _share.Database.StringSetAsync(key, _share.Instance, hold, When.NotExists).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException)
        {
            _share.Unreachable(ex.Message);
            return null;
        }
    }

    private static string Digest(string subject) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subject)), 0, 16);

    private static string Suffix(SharedWindowSet set) => set switch
    {
        SharedWindowSet.Denials => "d",
        SharedWindowSet.Segments => "s",
        _ => "r",
    };
}
