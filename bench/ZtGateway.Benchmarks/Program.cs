using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(ZtGateway.Benchmarks.DecisionBenchmarks).Assembly).Run(args);
