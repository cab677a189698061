namespace ZtGateway.Cli;

/// <summary>Exit codes of <c>ztgw</c> (docs/design.md section 7).</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int PolicyProblem = 1;
    public const int Usage = 2;

    /// <summary><c>diff</c>: the change opens an access path or weakens a requirement.</summary>
    public const int AccessOpened = 3;
}
