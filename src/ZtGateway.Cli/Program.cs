using ZtGateway.Cli;

return await ZtgwCommand.InvokeAsync(args);
