using System.Security.Cryptography;

namespace ZtGateway.Transport;

/// <summary>
/// TLS material read from PEM files and read again when their content changes. A change that cannot be used is logged
/// and refused: the material that served before keeps serving, and the same broken content is not retried until the
/// files change again. Readers take <see cref="Current"/> per handshake, so a rotation needs no new listener or client.
/// </summary>
/// <typeparam name="T">The loaded material (a certificate with its key, a CA bundle).</typeparam>
internal sealed partial class ReloadingPem<T>
    where T : class
{
    private readonly string[] _paths;
    private readonly Func<(T? Value, string? Problem)> _load;
    private readonly string _description;
    private readonly ILogger _logger;
    private readonly Lock _refreshing = new();
    private string _fingerprint;
    private volatile T _current;

    private ReloadingPem(string[] paths, Func<(T? Value, string? Problem)> load, string description, ILogger logger, T current, string fingerprint)
    {
        _paths = paths;
        _load = load;
        _description = description;
        _logger = logger;
        _current = current;
        _fingerprint = fingerprint;
    }

    /// <summary>The material in force.</summary>
    public T Current => _current;

    /// <summary>The files, as configured.</summary>
    public IReadOnlyList<string> Paths => _paths;

    /// <summary>
    /// Loads the material a first time. Throws <see cref="InvalidOperationException"/> with the problem when it cannot be
    /// used (the loader has checked the same files; this is a file that changed in between), so that the listener does not open.
    /// </summary>
    public static ReloadingPem<T> Open(IReadOnlyList<string> paths, Func<(T? Value, string? Problem)> load, string description, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(load);
        var fingerprint = Fingerprint(paths);
        var (value, problem) = TryLoad(load);
        if (value is null)
        {
            throw new InvalidOperationException($"{description}: {problem}");
        }

        return new ReloadingPem<T>([.. paths], load, description, logger, value, fingerprint);
    }

    /// <summary>Reads the files again if their content changed; true when new material now serves.</summary>
    public bool Refresh()
    {
        lock (_refreshing)
        {
            var fingerprint = Fingerprint(_paths);
            if (fingerprint == _fingerprint)
            {
                return false;
            }

            _fingerprint = fingerprint;
            var (value, problem) = TryLoad(_load);
            if (value is null)
            {
                Log.Refused(_logger, _description, problem ?? "unusable");
                return false;
            }

            _current = value;
            Log.Reloaded(_logger, _description);
            return true;
        }
    }

    private static (T? Value, string? Problem) TryLoad(Func<(T? Value, string? Problem)> load)
    {
        try
        {
            return load();
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return (null, ex.Message);
        }
    }

    // The content, not the modification time: a mounted secret is swapped by replacing a symbolic link, which leaves the
    // times of the names the configuration holds unchanged.
    private static string Fingerprint(IReadOnlyList<string> paths)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in paths)
        {
            try
            {
                hash.AppendData(File.ReadAllBytes(path));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes("unreadable:" + ex.GetType().Name));
            }

            hash.AppendData([0]);
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = TransportEventIds.MaterialReloaded, Level = LogLevel.Information, Message = "{Description}: changed files loaded; new handshakes use them")]
        public static partial void Reloaded(ILogger logger, string description);

        [LoggerMessage(EventId = TransportEventIds.MaterialRefused, Level = LogLevel.Error,
            Message = "{Description}: the changed files cannot be used ({Problem}); the previous ones keep serving")]
        public static partial void Refused(ILogger logger, string description, string problem);
    }
}
