using System.CommandLine;
using ZtGateway.DevTools;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Cli;

/// <summary><c>ztgw dev keys|certs|token|posture|signal</c>: development key material, certificates, tokens and signals, never for production.</summary>
internal static class DevCommand
{
    public static Command Create(TextWriter output, TextWriter errors) =>
        new("dev", "Development helpers: key material and tokens (never for production)")
        {
            Keys(output, errors),
            Certs(output, errors),
            Token(output, errors),
            Posture(output, errors),
            IdentityProvider(output, errors),
            Signal(output, errors),
        };

    private static Command Keys(TextWriter output, TextWriter errors)
    {
        var config = ZtgwCommand.ConfigOption();
        var force = new Option<bool>("--force") { Description = "Replace key files that exist" };
        var command = new Command("keys", "Write the development IdP, posture and signal key pairs and the gateway signing key the config names") { config, force };
        command.SetAction(parse =>
        {
            var gateway = LoadGateway(parse.GetValue(config)!, errors);
            if (gateway is null)
            {
                return ExitCodes.PolicyProblem;
            }

            var overwrite = parse.GetValue(force);
            foreach (var issuer in gateway.Identity.Issuers)
            {
                if (issuer.Type == IssuerType.Jwks && issuer.JwksFile is { } jwks)
                {
                    Write(output, jwks, overwrite, rsa: true);
                }
            }

            foreach (var source in gateway.Device.Issuers.Concat(gateway.Signals.Transmitters))
            {
                if (source.JwksFile is { } jwks)
                {
                    Write(output, jwks, overwrite, rsa: false);
                }
            }

            var signing = gateway.Assertion.SigningKeyFile;
            if (File.Exists(signing) && !overwrite)
            {
                output.WriteLine($"kept    {Path.GetRelativePath(Directory.GetCurrentDirectory(), signing)} (use --force to replace)");
            }
            else
            {
                DevKeys.CreateSigningKey(signing, overwrite: true);
                output.WriteLine($"wrote   {Path.GetRelativePath(Directory.GetCurrentDirectory(), signing)}");
            }

            output.WriteLine("These keys are for development only.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Certs(TextWriter output, TextWriter errors)
    {
        var config = ZtgwCommand.ConfigOption();
        var folder = new Option<string?>("--out") { Description = "Folder of the certificates (default: certs/ beside gateway.yaml)" };
        var force = new Option<bool>("--force") { Description = "Replace certificate and key files that exist" };
        var command = new Command("certs",
            "Write a development CA and server certificate per segment, a client CA with an X.509-SVID per SPIFFE workload, and the gateway's client certificate")
        {
            config, folder, force,
        };
        command.SetAction(parse =>
        {
            var path = Path.GetFullPath(parse.GetValue(config)!);
            var result = PolicyLoader.Load(path, TimeProvider.System, new PolicyLoadOptions { KeyFiles = KeyFileCheck.Skip });
            if (!result.Succeeded)
            {
                DiagnosticPrinter.Print(errors, result.Diagnostics);
                return ExitCodes.PolicyProblem;
            }

            var target = Path.GetFullPath(parse.GetValue(folder) ?? Path.Combine(Path.GetDirectoryName(path)!, "certs"));
            IReadOnlyList<DevCertificateFile> written;
            try
            {
                written = DevCertificates.Create(result.Policy!, target, parse.GetValue(force), TimeProvider.System);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                errors.WriteLine($"ztgw dev certs: {ex.Message}");
                return ExitCodes.PolicyProblem;
            }

            foreach (var file in written)
            {
                var shown = Path.GetRelativePath(Directory.GetCurrentDirectory(), file.Certificate);
                output.WriteLine(file.Written
                    ? $"wrote   {shown} and {Path.GetFileName(file.Key)}: {file.What}"
                    : $"kept    {shown} (use --force to replace): {file.What}");
            }

            output.WriteLine("These certificates are for development only.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Write(TextWriter output, string jwks, bool overwrite, bool rsa)
    {
        if (File.Exists(jwks) && !overwrite)
        {
            output.WriteLine($"kept    {Path.GetRelativePath(Directory.GetCurrentDirectory(), jwks)} (use --force to replace)");
            return;
        }

        var privateKey = DevKeys.PrivateKeyPathFor(jwks);
        if (rsa)
        {
            DevKeys.CreateRsa(privateKey, jwks, overwrite: true);
        }
        else
        {
            DevKeys.CreateEc(privateKey, jwks, overwrite: true);
        }

        output.WriteLine($"wrote   {Path.GetRelativePath(Directory.GetCurrentDirectory(), jwks)} and {Path.GetFileName(privateKey)}");
    }

    private static Command Token(TextWriter output, TextWriter errors)
    {
        var config = ZtgwCommand.ConfigOption();
        var sub = new Option<string?>("--sub") { Description = "Subject (user id)" };
        var groups = new Option<string?>("--groups") { Description = "Comma-separated groups" };
        var roles = new Option<string?>("--roles") { Description = "Comma-separated roles" };
        var amr = new Option<string?>("--amr") { Description = "Comma-separated RFC 8176 methods, e.g. pwd,mfa" };
        var acr = new Option<string?>("--acr") { Description = "Authentication context class" };
        var authAge = new Option<string?>("--auth-age") { Description = "How long ago the user authenticated, e.g. 10m" };
        var workload = new Option<string?>("--workload") { Description = "Mint a workload token for this id instead of a user token" };
        var lifetime = new Option<string>("--lifetime") { Description = "Token lifetime", DefaultValueFactory = _ => "1h" };
        var issuer = new Option<string?>("--issuer") { Description = "Name of a jwks issuer of the config (default: the first with a private key)" };
        var count = new Option<int>("--count") { Description = "Mint this many distinct tokens, one per line (load tests)", DefaultValueFactory = _ => 1 };
        var command = new Command("token", "Mint a token signed with a development issuer key")
        {
            config, sub, groups, roles, amr, acr, authAge, workload, lifetime, issuer, count,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(sub) is null && parse.GetValue(workload) is null)
            {
                errors.WriteLine("ztgw dev token: give --sub for a user or --workload for a service");
                return ExitCodes.Usage;
            }

            if (!TryDuration(parse.GetValue(lifetime)!, "--lifetime", errors, out var life)
                || !TryOptionalDuration(parse.GetValue(authAge), "--auth-age", errors, out var age))
            {
                return ExitCodes.Usage;
            }

            var gateway = LoadGateway(parse.GetValue(config)!, errors);
            if (gateway is null)
            {
                return ExitCodes.PolicyProblem;
            }

            var wanted = parse.GetValue(issuer);
            var chosen = gateway.Identity.Issuers.FirstOrDefault(i =>
                i.Type == IssuerType.Jwks && i.JwksFile is not null
                && (wanted is null ? File.Exists(DevKeys.PrivateKeyPathFor(i.JwksFile)) : i.Name == wanted));
            if (chosen is null)
            {
                errors.WriteLine(wanted is null
                    ? "ztgw dev token: no jwks issuer of the config has a private key beside its JWKS; run 'ztgw dev keys' first"
                    : $"ztgw dev token: '{wanted}' is not a jwks issuer of the config");
                return ExitCodes.PolicyProblem;
            }

            var privateKey = DevKeys.PrivateKeyPathFor(chosen.JwksFile!);
            if (!File.Exists(privateKey))
            {
                errors.WriteLine($"ztgw dev token: {privateKey} does not exist; run 'ztgw dev keys' first");
                return ExitCodes.PolicyProblem;
            }

            var howMany = parse.GetValue(count);
            if (howMany is < 1 or > 1_000_000)
            {
                errors.WriteLine("ztgw dev token: --count must be between 1 and 1000000");
                return ExitCodes.Usage;
            }

            var credentials = DevKeys.LoadSigningCredentials(privateKey);
            var request = new DevTokenRequest
            {
                Subject = parse.GetValue(sub) ?? parse.GetValue(workload)!,
                Groups = Split(parse.GetValue(groups)),
                Roles = Split(parse.GetValue(roles)),
                Amr = Split(parse.GetValue(amr)),
                Acr = parse.GetValue(acr),
                AuthAge = age,
                Workload = parse.GetValue(workload),
                Lifetime = life,
                Issuer = chosen.Issuer!,
                Audience = chosen.Audiences[0],
            };
            for (var i = 0; i < howMany; i++)
            {
                output.WriteLine(DevTokens.Mint(request, credentials, TimeProvider.System));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Posture(TextWriter output, TextWriter errors)
    {
        var config = ZtgwCommand.ConfigOption();
        var device = new Option<string>("--device") { Description = "Device id (the assertion's sub)", Required = true };
        var segment = new Option<string>("--segment") { Description = "The device's home segment", Required = true };
        var compliant = new Option<bool>("--compliant") { Description = "Report the device compliant" };
        var managed = new Option<bool>("--managed") { Description = "Report the device managed" };
        var risk = new Option<string>("--risk") { Description = "low, medium or high", DefaultValueFactory = _ => "low" };
        var user = new Option<string?>("--user") { Description = "Bind the assertion to this user's sub" };
        var lifetime = new Option<string>("--lifetime") { Description = "Assertion lifetime (at most device.maxAge)", DefaultValueFactory = _ => "10m" };
        var command = new Command("posture", "Mint a device-posture assertion signed with the development posture key")
        {
            config, device, segment, compliant, managed, risk, user, lifetime,
        };
        risk.AcceptOnlyFromAmong("low", "medium", "high");
        command.SetAction(parse =>
        {
            if (!TryDuration(parse.GetValue(lifetime)!, "--lifetime", errors, out var life))
            {
                return ExitCodes.Usage;
            }

            var gateway = LoadGateway(parse.GetValue(config)!, errors);
            if (gateway is null)
            {
                return ExitCodes.PolicyProblem;
            }

            var issuer = gateway.Device.Issuers.FirstOrDefault(i => i.JwksFile is not null && File.Exists(DevKeys.PrivateKeyPathFor(i.JwksFile)));
            if (issuer is null)
            {
                errors.WriteLine("ztgw dev posture: no posture issuer of the config has a private key beside its JWKS; run 'ztgw dev keys' first");
                return ExitCodes.PolicyProblem;
            }

            var assertion = DevPostures.Mint(new DevPostureRequest
            {
                DeviceId = parse.GetValue(device)!,
                Segment = parse.GetValue(segment)!,
                Compliant = parse.GetValue(compliant),
                Managed = parse.GetValue(managed),
                Risk = parse.GetValue(risk)!,
                User = parse.GetValue(user),
                Issuer = issuer.Issuer,
                Audience = gateway.Device.Audience,
                Lifetime = life > gateway.Device.MaxAge ? gateway.Device.MaxAge : life,
            }, DevKeys.LoadSigningCredentials(DevKeys.PrivateKeyPathFor(issuer.JwksFile!)), TimeProvider.System);
            output.WriteLine(assertion);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command IdentityProvider(TextWriter output, TextWriter errors)
    {
        var listen = new Option<string>("--listen") { Description = "Address to serve on (loopback only unless --force)", DefaultValueFactory = _ => "http://127.0.0.1:5556" };
        var key = new Option<string>("--key") { Description = "PEM signing key, created when missing", DefaultValueFactory = _ => "config/keys/dev-idp.key.pem" };
        var audience = new Option<string>("--audience") { Description = "aud of issued tokens", DefaultValueFactory = _ => "ztgw" };
        var force = new Option<bool>("--force") { Description = "Allow a non-loopback address" };
        var sample = DevWebClient.Samples[0];
        var webClient = new Option<string>("--web-client-id") { Description = "client_id of the web client browsers sign in to (signIn.clientId)", DefaultValueFactory = _ => sample.ClientId };
        var webSecret = new Option<string>("--web-client-secret") { Description = "Its secret (the first line of signIn.clientSecretFile)", DefaultValueFactory = _ => sample.Secret };
        var command = new Command("idp", "Run a development OpenID Provider (discovery, JWKS, browser sign-in, token endpoint) on loopback")
        {
            listen, key, audience, force, webClient, webSecret,
        };
        command.SetAction(async (parse, outerToken) =>
        {
            using var signals = new ShutdownSignals(outerToken);
            var cancellationToken = signals.Token;
            using var logging = Hosting.ConsoleLogging.Create(LogLevel.Warning);
            DevIdentityProvider provider;
            try
            {
                provider = await DevIdentityProvider.StartAsync(new DevIdentityProviderOptions
                {
                    Listen = parse.GetValue(listen)!,
                    KeyFile = Path.GetFullPath(parse.GetValue(key)!),
                    Audience = parse.GetValue(audience)!,
                    Force = parse.GetValue(force),
                    WebClients = [new DevWebClient(parse.GetValue(webClient)!, parse.GetValue(webSecret)!, [])],
                }, logging, cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or UriFormatException)
            {
                await errors.WriteLineAsync("ztgw dev idp: " + ex.Message);
                return ExitCodes.PolicyProblem;
            }

            await using (provider)
            {
                await output.WriteLineAsync($"""
                    ************************************************************
                    *  DEVELOPMENT IDENTITY PROVIDER - NEVER USE IN PRODUCTION  *
                    ************************************************************
                    issuer     {provider.Authority}
                    discovery  {provider.Authority}/.well-known/openid-configuration
                    users      {string.Join(", ", DevIdentityProviderOptions.SampleUsers.Select(u => u.Name))} (password: {DevIdentityProvider.DevPassword})
                    workloads  {string.Join(", ", DevIdentityProviderOptions.SampleClients.Select(c => c.ClientId))} (secret: dev-secret)
                    web client {parse.GetValue(webClient)} (secret: {parse.GetValue(webSecret)}), redirect URIs http(s)://127.0.0.1|localhost:PORT{DevWebClient.CallbackPath}

                    curl -s {provider.Authority}/token -d grant_type=password -d username=alice -d password=dev -d mfa=true
                    curl -s {provider.Authority}/token -d grant_type=client_credentials -d client_id=ledger-sync -d client_secret=dev-secret
                    """);
                await signals.WaitAsync();
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Signal(TextWriter output, TextWriter errors)
    {
        var config = ZtgwCommand.ConfigOption();
        var eventName = new Option<string>("--event") { Description = "The CAEP event", Required = true };
        eventName.AcceptOnlyFromAmong(DevSignals.Events);
        var sub = new Option<string?>("--sub") { Description = "The user (sub) of a user event" };
        var subjectIssuer = new Option<string?>("--subject-issuer") { Description = "The iss of the user's tokens (default: the first jwks issuer of the config)" };
        var device = new Option<string?>("--device") { Description = "The device id of a device-compliance-change" };
        var status = new Option<string?>("--status") { Description = "compliant or not-compliant (device-compliance-change)" };
        status.AcceptOnlyFromAmong("compliant", "not-compliant");
        var command = new Command("signal", "Mint a CAEP Security Event Token signed with the development signals key; POST it to /ssf/events")
        {
            config, eventName, sub, subjectIssuer, device, status,
        };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(eventName)!;
            var isDevice = name == "device-compliance-change";
            if (isDevice ? parse.GetValue(device) is null || parse.GetValue(status) is null : parse.GetValue(sub) is null)
            {
                errors.WriteLine(isDevice
                    ? "ztgw dev signal: device-compliance-change needs --device and --status"
                    : $"ztgw dev signal: {name} needs --sub");
                return ExitCodes.Usage;
            }

            var gateway = LoadGateway(parse.GetValue(config)!, errors);
            if (gateway is null)
            {
                return ExitCodes.PolicyProblem;
            }

            var transmitter = gateway.Signals.Transmitters.FirstOrDefault(t => t.JwksFile is not null && File.Exists(DevKeys.PrivateKeyPathFor(t.JwksFile)));
            if (transmitter is null)
            {
                errors.WriteLine("ztgw dev signal: no signal transmitter of the config has a private key beside its JWKS; run 'ztgw dev keys' first");
                return ExitCodes.PolicyProblem;
            }

            var issuer = parse.GetValue(subjectIssuer)
                ?? gateway.Identity.Issuers.FirstOrDefault(i => i.Type == IssuerType.Jwks && i.Issuer is not null)?.Issuer;
            if (!isDevice && issuer is null)
            {
                errors.WriteLine("ztgw dev signal: give --subject-issuer (the config has no jwks issuer to default to)");
                return ExitCodes.Usage;
            }

            var set = DevSignals.Mint(new DevSignalRequest
            {
                Event = name,
                Subject = parse.GetValue(sub),
                SubjectIssuer = issuer,
                Device = parse.GetValue(device),
                Status = parse.GetValue(status),
                Issuer = transmitter.Issuer,
                Audience = transmitter.Audience!,
            }, DevKeys.LoadSigningCredentials(DevKeys.PrivateKeyPathFor(transmitter.JwksFile!)), TimeProvider.System);
            output.WriteLine(set);
            return ExitCodes.Success;
        });
        return command;
    }

    private static GatewayConfig? LoadGateway(string path, TextWriter errors)
    {
        // The development commands make or use key files; they do not need them to exist beforehand.
        var result = PolicyLoader.Load(Path.GetFullPath(path), TimeProvider.System, new PolicyLoadOptions { KeyFiles = KeyFileCheck.Skip });
        if (!result.Succeeded)
        {
            DiagnosticPrinter.Print(errors, result.Diagnostics);
            return null;
        }

        return result.Policy!.Gateway;
    }

    private static string[] Split(string? value) =>
        value is null ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool TryDuration(string text, string option, TextWriter errors, out TimeSpan value)
    {
        if (Durations.TryParse(text, out value))
        {
            return true;
        }

        errors.WriteLine($"ztgw dev token: {option} '{text}' is not a duration (use e.g. 30s, 15m, 12h)");
        return false;
    }

    private static bool TryOptionalDuration(string? text, string option, TextWriter errors, out TimeSpan? value)
    {
        value = null;
        if (text is null)
        {
            return true;
        }

        if (!TryDuration(text, option, errors, out var parsed))
        {
            return false;
        }

        value = parsed;
        return true;
    }
}
