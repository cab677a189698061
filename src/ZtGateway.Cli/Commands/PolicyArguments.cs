using System.Globalization;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading;

namespace ZtGateway.Cli;

/// <summary>What the analysis verbs share: loading a policy for them, and reading instants and lists from options.</summary>
internal static class PolicyArguments
{
    /// <summary>Loads the policy; on errors prints every diagnostic to <paramref name="errors"/> and returns null.</summary>
    public static PolicySet? Load(string path, TimeProvider clock, TextWriter errors)
    {
        // Analyses read the policy's meaning; the key files belong to a deployment and are not opened.
        var result = PolicyLoader.Load(Path.GetFullPath(path), clock, new PolicyLoadOptions { KeyFiles = KeyFileCheck.Skip });
        if (!result.Succeeded)
        {
            DiagnosticPrinter.Print(errors, result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
            errors.WriteLine($"{path}: invalid policy");
            return null;
        }

        return result.Policy;
    }

    /// <summary>A clock stopped at <c>--at</c>, or at the current instant; false (with a message) for a malformed instant.</summary>
    public static bool TryClock(string? at, string verb, TextWriter errors, out TimeProvider clock)
    {
        // Pinned even without --at: the request's times and the decision then read the very same instant.
        clock = new Policy.Analysis.PinnedTimeProvider(TimeProvider.System.GetUtcNow());
        if (at is null)
        {
            return true;
        }

        if (!DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
        {
            errors.WriteLine($"ztgw {verb}: --at '{at}' is not an instant (use e.g. 2026-06-01T12:00:00Z)");
            return false;
        }

        clock = new Policy.Analysis.PinnedTimeProvider(instant);
        return true;
    }

    public static string[] Split(string? value) =>
        value is null ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
