using ZtGateway.SampleService;

await SampleServiceApp.Build(args).RunAsync();
