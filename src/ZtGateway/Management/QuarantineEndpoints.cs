using System.Globalization;
using System.Text.Json;
using ZtGateway.Enforcement.Model;
using ZtGateway.Policy.Loading;
using ZtGateway.Sources.Continuous;

namespace ZtGateway.Management;

/// <summary>
/// The quarantine admin API (admins only, see <see cref="AdminGuard"/>):
/// <c>PUT /admin/quarantine/{principals|devices}/{id}</c> with <c>{"for":"30m"}</c> or
/// <c>{"until":"2026-01-01T00:00:00Z"}</c> and an optional <c>"reason"</c>;
/// <c>DELETE</c> of the same path lifts every hold on the target (an operator's, a signal's, the detector's);
/// <c>GET /admin/quarantine</c> lists quarantines, revocations and step-up demands in force.
/// A principal id is a user's <c>sub</c> or a workload's id (as in <c>actor.user.uid</c> of audit lines);
/// a device id is the <c>sub</c> of its posture assertions. Ids with <c>/</c> are sent percent-encoded.
/// Changes are effective on the next request, written to the state file and audited.
/// </summary>
internal static class QuarantineEndpoints
{
    public const string Path = "/admin/quarantine";

    public static void Map(WebApplication app)
    {
        app.MapGet(Path, async (HttpContext context, GatewayStateHolder holder, ContinuousEvaluation continuous, TimeProvider time) =>
        {
            var refusal = await AdminGuard.CheckAsync(context, holder.Current);
            if (refusal is not null)
            {
                return refusal;
            }

            var now = time.GetUtcNow();
            var active = continuous.Quarantines.Active(now);
            return Results.Json(new
            {
                principals = active.Where(e => e.Target == QuarantineTargets.Principal).Select(Describe),
                devices = active.Where(e => e.Target == QuarantineTargets.Device).Select(Describe),
                revocations = continuous.Revocations.Revocations.OrderBy(r => r.Subject.Subject, StringComparer.Ordinal)
                    .Select(r => new { iss = r.Subject.Issuer, sub = r.Subject.Subject, issuedBefore = r.Before }),
                stepUps = continuous.Revocations.StepUps.OrderBy(r => r.Subject.Subject, StringComparer.Ordinal)
                    .Select(r => new { iss = r.Subject.Issuer, sub = r.Subject.Subject, issuedBefore = r.Before }),
            });
        });

        app.MapPut(Path + "/{kind}/{**id}", async (HttpContext context, string kind, string id, GatewayStateHolder holder,
            ContinuousEvaluation continuous, TimeProvider time) =>
        {
            var refusal = await AdminGuard.CheckAsync(context, holder.Current);
            if (refusal is not null)
            {
                return refusal;
            }

            if (Target(kind) is not { } target || Id(id) is not { } subject)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Use /admin/quarantine/principals/{id} or /admin/quarantine/devices/{id}");
            }

            var now = time.GetUtcNow();
            var (until, reason, problem) = await ReadRequestAsync(context, now);
            if (problem is not null)
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: problem);
            }

            var record = new JournalRecord
            {
                Type = JournalRecordTypes.Hold,
                Time = now,
                At = now,
                Target = target,
                Id = subject,
                Origin = QuarantineOrigins.Admin,
                Until = until,
                Reason = reason ?? "quarantined by an operator",
                Actor = AdminGuard.Admin(context),
            };
            if (!continuous.Commit(record))
            {
                return Unavailable();
            }

            var hold = continuous.Quarantines.Find(target, subject, QuarantineOrigins.Admin, now);
            return Results.Json(new { target, id = subject, hold = hold is null ? null : Describe(hold) });
        });

        app.MapDelete(Path + "/{kind}/{**id}", async (HttpContext context, string kind, string id, GatewayStateHolder holder,
            ContinuousEvaluation continuous, TimeProvider time) =>
        {
            var refusal = await AdminGuard.CheckAsync(context, holder.Current);
            if (refusal is not null)
            {
                return refusal;
            }

            if (Target(kind) is not { } target || Id(id) is not { } subject)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Use /admin/quarantine/principals/{id} or /admin/quarantine/devices/{id}");
            }

            var now = time.GetUtcNow();
            if (!continuous.Quarantines.IsQuarantined(target, subject, now))
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not quarantined");
            }

            var record = new JournalRecord
            {
                Type = JournalRecordTypes.Release,
                Time = now,
                At = now,
                Target = target,
                Id = subject,
                Reason = "released by an operator",
                Actor = AdminGuard.Admin(context),
            };
            return continuous.Commit(record) ? Results.NoContent() : Unavailable();
        });
    }

    private static IResult Unavailable() => Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "The change is in force but the state file could not record it; it will not survive a restart");

    private static string? Target(string kind) => kind switch
    {
        "principals" => QuarantineTargets.Principal,
        "devices" => QuarantineTargets.Device,
        _ => null,
    };

    // Routing leaves %2F encoded inside a value; ids such as SPIFFE ids need it decoded.
    private static string? Id(string id)
    {
        var decoded = Uri.UnescapeDataString(id);
        return decoded.Length == 0 ? null : decoded;
    }

    private static object Describe(QuarantineEntry entry) => new { id = entry.Id, holds = entry.Holds.Select(Describe) };

    private static object Describe(QuarantineHold hold) => new
    {
        origin = hold.Origin,
        since = hold.Since,
        until = hold.Until,
        reason = hold.Reason,
        actor = hold.Actor,
    };

    private static async Task<(DateTimeOffset? Until, string? Reason, string? Problem)> ReadRequestAsync(HttpContext context, DateTimeOffset now)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException)
        {
            return (null, null, "the body must be JSON: {\"for\":\"30m\"} or {\"until\":\"2026-01-01T00:00:00Z\"}, with an optional \"reason\"");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null, "the body must be a JSON object");
            }

            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("for" or "until" or "reason"))
                {
                    return (null, null, $"unknown member '{property.Name}'");
                }
            }

            var reason = root.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            var hasFor = root.TryGetProperty("for", out var forValue);
            var hasUntil = root.TryGetProperty("until", out var untilValue);
            if (hasFor == hasUntil)
            {
                return (null, null, "give exactly one expiry: \"for\" (a duration such as 30m) or \"until\" (an RFC 3339 instant)");
            }

            if (hasFor)
            {
                if (forValue.ValueKind != JsonValueKind.String || !Durations.TryParse(forValue.GetString()!, out var duration) || duration <= TimeSpan.Zero)
                {
                    return (null, null, "\"for\" must be a positive duration such as 30m, 12h or 7d");
                }

                return (now + duration, reason, null);
            }

            if (untilValue.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(untilValue.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var until))
            {
                return (null, null, "\"until\" must be an RFC 3339 instant such as 2026-01-01T00:00:00Z");
            }

            return until <= now ? (null, null, "\"until\" is in the past") : (until, reason, null);
        }
    }
}
