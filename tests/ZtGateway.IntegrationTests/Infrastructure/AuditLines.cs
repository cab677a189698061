using System.Text.Json;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>
/// Reading an audit file back. Besides the lines of requests, a gateway writes one line for the policy it put in force
/// at start and one per reload (OCSF Entity Management with <c>unmapped.ztgw.change</c> <c>policy-*</c>); tests about
/// requests leave those out.
/// </summary>
public static class AuditLines
{
    /// <summary>True when <paramref name="line"/> records the policy put in force, or a reload of it.</summary>
    public static bool IsPolicyChange(string line)
    {
        using var json = JsonDocument.Parse(line);
        return IsPolicyChange(json.RootElement);
    }

    /// <summary>True when <paramref name="line"/> records the policy put in force, or a reload of it.</summary>
    public static bool IsPolicyChange(JsonElement line) =>
        line.GetProperty("class_uid").GetInt32() == 3004
        && line.GetProperty("unmapped").GetProperty("ztgw").GetProperty("change").GetString()!.StartsWith("policy-", StringComparison.Ordinal);

    /// <summary>Every line of the file but those of policy changes.</summary>
    public static async Task<string[]> ReadWithoutPolicyChangesAsync(string path) =>
        [.. (await File.ReadAllLinesAsync(path)).Where(l => !IsPolicyChange(l))];

    /// <summary>Every line of the file but those of policy changes.</summary>
    public static string[] ReadWithoutPolicyChanges(string path) => [.. File.ReadAllLines(path).Where(l => !IsPolicyChange(l))];

    /// <summary>The policy-change lines of the file, in order.</summary>
    public static List<JsonElement> PolicyChanges(string path) =>
        [.. File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).Where(IsPolicyChange)];
}
