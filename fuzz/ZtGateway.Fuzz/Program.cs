using SharpFuzz;
using ZtGateway.Fuzz;

// dotnet ZtGateway.Fuzz.dll TARGET              afl-fuzz entry point: one input a run, on standard input
// dotnet ZtGateway.Fuzz.dll TARGET FILE|DIR...  replays files (a crash, a corpus) and says which ones fail
// dotnet ZtGateway.Fuzz.dll --write-seeds DIR   writes the generated seeds (credential and path targets)
if (args is ["--write-seeds", var seeds])
{
    SeedWriter.Write(seeds);
    return 0;
}

if (args.Length == 0 || !FuzzTargets.Names.Contains(args[0]))
{
    await Console.Error.WriteLineAsync("usage: ZtGateway.Fuzz TARGET [FILE|DIR ...]; targets: " + string.Join(", ", FuzzTargets.Names));
    return 2;
}

if (args.Length == 1)
{
    // The target is made inside the fuzzing loop: instrumented code (a settings record's constructor is enough) may
    // only run once SharpFuzz has attached afl-fuzz's coverage map. Out of process: a stack overflow or a hang of the
    // code under test is reported as a crash or a timeout instead of taking the fork server down with it.
    IFuzzTarget? fuzzed = null;
    Fuzzer.OutOfProcess.Run(stream =>
    {
        fuzzed ??= FuzzTargets.Create(args[0]);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        fuzzed.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    });
    fuzzed?.Dispose();
    return 0;
}

// Replaying needs the uninstrumented build: instrumented code outside the fuzzing loop has no coverage map.
using var target = FuzzTargets.Create(args[0]);
var failed = 0;
var files = args.Skip(1).SelectMany<string, string>(a => Directory.Exists(a) ? Directory.EnumerateFiles(a, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal) : [a]);
foreach (var file in files)
{
    try
    {
        target.Run(File.ReadAllBytes(file));
    }
    catch (Exception ex)
    {
        failed++;
        Console.WriteLine($"{file}: {ex}");
    }
}

Console.WriteLine(failed == 0 ? "no failures" : $"{failed} failure(s)");
return failed == 0 ? 0 : 1;
