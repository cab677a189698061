using SoakClient;

// The soak's load client and checker (bench/soak.sh runs both):
//   SoakClient drive --finance URL --hr URL --management URL --material DIR --ztgw ztgw.dll --config gateway.yaml --out DIR [...]
//   SoakClient check --work DIR [...]
try
{
    var command = args.Length > 0 ? args[0] : string.Empty;
    var options = new Arguments(args.Skip(1));
    return command switch
    {
        "drive" => await Driver.RunAsync(options),
        "check" => await Checker.RunAsync(options),
        _ => Usage(),
    };
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync("SoakClient: " + ex.Message);
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: SoakClient drive|check --option value ... (see bench/soak.sh)");
    return 2;
}
