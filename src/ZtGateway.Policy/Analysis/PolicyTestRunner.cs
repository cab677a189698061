using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Analysis;

/// <summary>The outcome of one policy test case.</summary>
/// <param name="Case">The case.</param>
/// <param name="At">The instant it was decided at.</param>
/// <param name="Explanation">The engine's decision, rule by rule.</param>
/// <param name="Mismatches">What differed from the expectation; empty when the case passed.</param>
public sealed record PolicyTestResult(PolicyTestCase Case, DateTimeOffset At, DecisionExplanation Explanation, IReadOnlyList<string> Mismatches)
{
    /// <summary>True when the decision met every expectation.</summary>
    public bool Passed => Mismatches.Count == 0;
}

/// <summary>Runs policy test cases through the decision engine, each at its own instant.</summary>
public static class PolicyTestRunner
{
    /// <summary>
    /// Decides every case of <paramref name="suite"/> against <paramref name="policy"/>. A case without <c>at</c> (in
    /// the case or the file) is decided at <paramref name="clock"/>'s current time.
    /// </summary>
    public static IReadOnlyList<PolicyTestResult> Run(PolicySet policy, PolicyTestSuite suite, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(clock);
        var now = clock.GetUtcNow();
        var engines = new Dictionary<DateTimeOffset, PolicyEngine>();
        var results = new List<PolicyTestResult>(suite.Cases.Count);
        foreach (var testCase in suite.Cases)
        {
            var at = testCase.At ?? suite.At ?? now;
            if (!engines.TryGetValue(at, out var engine))
            {
                engine = new PolicyEngine(policy, new PinnedTimeProvider(at));
                engines[at] = engine;
            }

            var explanation = engine.Explain(testCase.Request.ToContext(at));
            results.Add(new PolicyTestResult(testCase, at, explanation, Compare(testCase.Expect, explanation.Decision)));
        }

        return results;
    }

    private static List<string> Compare(PolicyTestExpectation expect, Decision actual)
    {
        var mismatches = new List<string>();
        if (expect.Allowed != actual.Allowed)
        {
            mismatches.Add($"decision: expected {Word(expect.Allowed)}, got {Word(actual.Allowed)}");
        }

        if (expect.Reason is { } reason && reason != actual.Reason)
        {
            mismatches.Add($"reason: expected {reason.ToCode()}, got {actual.Reason.ToCode()}");
        }

        if (expect.ChecksRule && !string.Equals(expect.Rule, actual.RuleName, StringComparison.Ordinal))
        {
            mismatches.Add($"rule: expected {expect.Rule ?? "none"}, got {actual.RuleName ?? "none"}");
        }

        return mismatches;
    }

    private static string Word(bool allowed) => allowed ? "allow" : "deny";
}
