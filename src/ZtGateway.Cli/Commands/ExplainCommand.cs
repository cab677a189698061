using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Analysis.Rendering;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;
using ZtGateway.Policy.Loading;
using ZtGateway.Sources.Device;
using ZtGateway.Sources.Identity;

namespace ZtGateway.Cli;

/// <summary>
/// <c>ztgw explain</c>: what the gateway would decide for one request, and why, rule by rule. The caller is given either
/// as real material (a token and a posture assertion, verified by the gateway's own verifiers) or as attributes.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create(TextWriter output, TextWriter errors)
    {
        var config = ZtgwCommand.ConfigOption();
        var segment = new Option<string>("--segment") { Description = "Destination segment (the listener that takes the request)", Required = true };
        var method = new Option<string>("--method") { Description = "HTTP method", DefaultValueFactory = _ => "GET" };
        var path = new Option<string>("--path") { Description = "Request path, e.g. /payroll/x", Required = true };
        var token = new Option<string?>("--token") { Description = "A bearer token (JWT), verified as the gateway would" };
        var device = new Option<string?>("--device") { Description = "A device-posture assertion (JWT), verified as the gateway would" };
        var ip = new Option<string?>("--ip") { Description = "Client address" };
        var user = new Option<string?>("--user") { Description = "A user by attributes: the sub" };
        var groups = new Option<string?>("--groups") { Description = "Comma-separated groups of --user" };
        var roles = new Option<string?>("--roles") { Description = "Comma-separated roles of --user" };
        var amr = new Option<string?>("--amr") { Description = "Comma-separated RFC 8176 methods of --user, e.g. pwd,mfa (default: none)" };
        var acr = new Option<string?>("--acr") { Description = "acr of --user" };
        var authAge = new Option<string?>("--auth-age") { Description = "How long ago --user authenticated, e.g. 10m (default: just now)" };
        var workload = new Option<string?>("--workload") { Description = "A workload by attributes: its id" };
        var bound = new Option<bool>("--bound")
        {
            Description = "The credential is bound to the connection: a token whose cnf names the client certificate presented, or a workload certificate",
        };
        var deviceSegment = new Option<string?>("--device-segment") { Description = "A verified device by attributes: its home segment" };
        var deviceId = new Option<string>("--device-id") { Description = "Device id", DefaultValueFactory = _ => "device" };
        var compliant = new Option<bool>("--compliant") { Description = "The device reports compliant" };
        var managed = new Option<bool>("--managed") { Description = "The device reports managed" };
        var risk = new Option<string>("--risk") { Description = "The device's risk: low, medium or high", DefaultValueFactory = _ => "low" };
        risk.AcceptOnlyFromAmong("low", "medium", "high");
        var at = new Option<string?>("--at") { Description = "Decide as of this instant (default: now)" };
        var json = new Option<bool>("--json") { Description = "Write JSON" };
        var command = new Command("explain", "Explain the decision for one request: reason, route, rule, and why each rule of the route did or did not apply")
        {
            config, segment, method, path, token, device, ip, user, groups, roles, amr, acr, authAge, workload, bound,
            deviceSegment, deviceId, compliant, managed, risk, at, json,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var usage = Usage(parse, token, device, user, workload, deviceSegment, compliant, managed, groups, roles, amr, acr, authAge);
            if (usage is not null)
            {
                await errors.WriteLineAsync("ztgw explain: " + usage);
                return ExitCodes.Usage;
            }

            IPAddress? address = null;
            if (parse.GetValue(ip) is { } ipText && !IPAddress.TryParse(ipText, out address))
            {
                await errors.WriteLineAsync($"ztgw explain: --ip '{ipText}' is not an IP address");
                return ExitCodes.Usage;
            }

            var age = TimeSpan.Zero;
            if (parse.GetValue(authAge) is { } ageText && !Durations.TryParse(ageText, out age))
            {
                await errors.WriteLineAsync($"ztgw explain: --auth-age '{ageText}' is not a duration (use e.g. 30s, 15m, 12h)");
                return ExitCodes.Usage;
            }

            if (!PolicyArguments.TryClock(parse.GetValue(at), "explain", errors, out var clock))
            {
                return ExitCodes.Usage;
            }

            var policy = PolicyArguments.Load(parse.GetValue(config)!, clock, errors);
            if (policy is null)
            {
                return ExitCodes.PolicyProblem;
            }

            var now = clock.GetUtcNow();
            var attributes = new RequestAttributes
            {
                Segment = parse.GetValue(segment)!,
                Method = parse.GetValue(method)!,
                Path = parse.GetValue(path)!,
                ClientAddress = address,
                User = parse.GetValue(user) is { } sub
                    ? new UserAttributes
                    {
                        Subject = sub,
                        Groups = PolicyArguments.Split(parse.GetValue(groups)),
                        Roles = PolicyArguments.Split(parse.GetValue(roles)),
                        Amr = PolicyArguments.Split(parse.GetValue(amr)),
                        Acr = parse.GetValue(acr),
                        AuthAge = age,
                    }
                    : null,
                Workload = parse.GetValue(workload),
                Bound = parse.GetValue(bound),
                Device = parse.GetValue(deviceSegment) is { } home
                    ? new DeviceAttributes
                    {
                        Id = parse.GetValue(deviceId)!,
                        Segment = home,
                        Compliant = parse.GetValue(compliant),
                        Managed = parse.GetValue(managed),
                        Risk = parse.GetValue(risk) switch { "medium" => RiskLevel.Medium, "high" => RiskLevel.High, _ => RiskLevel.Low },
                    }
                    : null,
            };

            var context = attributes.ToContext(now);
            var material = await VerifyAsync(policy, clock, parse.GetValue(token), parse.GetValue(device), context, cancellationToken);
            var explanation = new PolicyEngine(policy, clock).Explain(material.Context);
            var report = new ExplainReport
            {
                Explanation = explanation,
                Request = material.Context,
                At = now,
                TokenDetail = material.TokenDetail,
                DeviceDetail = material.DeviceDetail,
            };
            ReportRenderer.Render(report, parse.GetValue(json) ? ReportFormat.Json : ReportFormat.Text, output);

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>What the verifiers said about token and posture material, when some was given.</summary>
    private sealed record Material(RequestContext Context, string? TokenDetail, string? DeviceDetail);

    private static string? Usage(ParseResult parse, Option<string?> token, Option<string?> device, Option<string?> user, Option<string?> workload,
        Option<string?> deviceSegment, Option<bool> compliant, Option<bool> managed, params Option<string?>[] userAttributes)
    {
        if (parse.GetValue(user) is not null && parse.GetValue(workload) is not null)
        {
            return "give --user or --workload, not both";
        }

        if (parse.GetValue(token) is not null && (parse.GetValue(user) is not null || parse.GetValue(workload) is not null))
        {
            return "give the caller either as --token or as --user/--workload attributes, not both";
        }

        if (parse.GetValue(device) is not null && parse.GetValue(deviceSegment) is not null)
        {
            return "give the device either as --device or as --device-segment attributes, not both";
        }

        if (parse.GetValue(deviceSegment) is null && (parse.GetValue(compliant) || parse.GetValue(managed)))
        {
            return "--compliant and --managed describe a device: add --device-segment";
        }

        if (parse.GetValue(user) is null && userAttributes.Any(o => parse.GetValue(o) is not null))
        {
            return "--groups, --roles, --amr, --acr and --auth-age describe a user: add --user";
        }

        return null;
    }

    // Real material goes through the gateway's own verifiers, so the answer is the one the gateway would give.
    private static async Task<Material> VerifyAsync(PolicySet policy, TimeProvider clock, string? token, string? device,
        RequestContext context, CancellationToken cancellationToken)
    {
        string? tokenDetail = null;
        string? deviceDetail = null;
        if (token is not null)
        {
            using var validator = new TokenValidator(policy.Gateway.Identity, clock, backchannel: null, NullLogger.Instance);
            var outcome = await validator.ValidateAsync("Bearer " + token, cancellationToken);
            context = context with { Token = outcome.Status, Principal = outcome.Principal };
            tokenDetail = outcome.Detail;
        }

        if (device is not null)
        {
            using var verifier = new DevicePostureVerifier(policy.Gateway.Device, policy.Gateway.Identity.ClockSkew, clock, null, NullLogger.Instance);
            var posture = await verifier.VerifyAsync(device, context.Principal, cancellationToken);
            context = context with { DeviceStatus = posture.Status, Device = posture.Device };
            deviceDetail = posture.Detail;
        }

        return new Material(context, tokenDetail, deviceDetail);
    }
}
