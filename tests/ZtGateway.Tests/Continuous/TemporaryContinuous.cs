using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Tests.Continuous;

/// <summary>
/// Continuous evaluation opened over a fresh state folder, with a fake clock and its audit lines kept in memory. Disposing
/// it closes the state file and deletes the folder.
/// </summary>
internal sealed class TemporaryContinuous : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ztgw-continuous-" + Guid.NewGuid().ToString("N")[..12]);

    public TemporaryContinuous(DateTimeOffset start)
    {
        Time = new FakeTimeProvider(start);
        Context = new MemoryLivePolicy(_directory);
        Continuous = ContinuousEvaluation.Open(Context, Time, NullLoggerFactory.Instance);
    }

    public FakeTimeProvider Time { get; }

    /// <summary>The live policy, whose audit lines are in <see cref="MemoryLivePolicy.Lines"/>.</summary>
    public MemoryLivePolicy Context { get; }

    public ContinuousEvaluation Continuous { get; }

    public void Dispose()
    {
        Continuous.Dispose();
        Context.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
