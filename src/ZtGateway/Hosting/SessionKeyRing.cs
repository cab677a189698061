using Microsoft.AspNetCore.DataProtection;
using ZtGateway.Sources.Continuous.Shared;

namespace ZtGateway.Hosting;

/// <summary>
/// The Data Protection key ring of browser sessions and sign-in state, one per process and shared by its listeners:
/// in <c>stateDir/data-protection-keys</c> (a folder only the gateway's user can read), or in Redis under
/// <c>PREFIX:data-protection-keys</c> when <c>sharedState</c> is set, so every replica opens every session.
/// </summary>
internal sealed class SessionKeyRing : IDisposable
{
    /// <summary>Data Protection's application name: replicas of one deployment must share it.</summary>
    public const string ApplicationName = "ztgw";

    /// <summary>The folder under <c>stateDir</c> that holds the keys when no Redis is shared.</summary>
    public const string FolderName = "data-protection-keys";

    private readonly ServiceProvider _services;

    private SessionKeyRing(ServiceProvider services, string where)
    {
        _services = services;
        Provider = services.GetRequiredService<IDataProtectionProvider>();
        Where = where;
    }

    public IDataProtectionProvider Provider { get; }

    /// <summary>Where the keys live, for the log.</summary>
    public string Where { get; }

    public static SessionKeyRing Open(string stateDir, RedisStateShare? share)
    {
        var services = new ServiceCollection();
        var builder = services.AddDataProtection().SetApplicationName(ApplicationName);
        string where;
        if (share is not null)
        {
            var key = share.Settings.Prefix + ":" + FolderName;
            builder.PersistKeysToStackExchangeRedis(() => share.Database, key);
            where = "redis key " + key;
        }
        else
        {
            var folder = Path.Combine(stateDir, FolderName);
            var directory = Directory.CreateDirectory(folder);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            builder.PersistKeysToFileSystem(directory);
            where = folder;
        }

        return new SessionKeyRing(services.BuildServiceProvider(), where);
    }

    public void Dispose() => _services.Dispose();
}
