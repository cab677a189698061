namespace ZtGateway.Fuzz.Tests;

/// <summary>One instance of each fuzz target for the whole replay, as one afl-fuzz process keeps one.</summary>
public sealed class TargetPool : IDisposable
{
    private readonly Dictionary<string, IFuzzTarget> _targets = new(StringComparer.Ordinal);

    public IFuzzTarget Get(string name)
    {
        if (!_targets.TryGetValue(name, out var target))
        {
            target = FuzzTargets.Create(name);
            _targets[name] = target;
        }

        return target;
    }

    public void Dispose()
    {
        foreach (var target in _targets.Values)
        {
            target.Dispose();
        }
    }
}
