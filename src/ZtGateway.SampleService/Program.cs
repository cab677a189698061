using ZtGateway.SampleService;

var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();
app.MapSampleEndpoints();
app.Run();
