namespace ZtGateway.Fuzz;

/// <summary>
/// One fuzzing target: a function of bytes that checks its properties and throws <see cref="PropertyViolationException"/>
/// when one fails. Any exception that escapes <see cref="Run"/> is a finding, for afl-fuzz and for the corpus replay tests alike.
/// </summary>
public interface IFuzzTarget : IDisposable
{
    /// <summary>The name used on the command line and as the corpus folder (<c>fuzz/corpus/NAME</c>).</summary>
    string Name { get; }

    /// <summary>Feeds <paramref name="input"/> to the code under test and checks the target's properties.</summary>
    void Run(ReadOnlySpan<byte> input);
}
