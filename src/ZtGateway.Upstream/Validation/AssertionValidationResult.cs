using System.Security.Claims;

namespace ZtGateway.Upstream.Validation;

/// <summary>The outcome of verifying one assertion: an identity, or a failure with a detail for the log.</summary>
internal sealed record AssertionValidationResult
{
    private AssertionValidationResult(ClaimsIdentity? identity, AssertionFailure? failure, string? detail)
    {
        Identity = identity;
        Failure = failure;
        Detail = detail;
    }

    /// <summary>The verified caller; set exactly when <see cref="Succeeded"/>.</summary>
    public ClaimsIdentity? Identity { get; }

    /// <summary>Why verification failed; <see langword="null"/> on success.</summary>
    public AssertionFailure? Failure { get; }

    /// <summary>A short explanation for the log; never contains the token.</summary>
    public string? Detail { get; }

    /// <summary>Whether the assertion was accepted.</summary>
    public bool Succeeded => Identity is not null;

    public static AssertionValidationResult Success(ClaimsIdentity identity) => new(identity, null, null);

    public static AssertionValidationResult Fail(AssertionFailure failure, string detail) => new(null, failure, detail);
}
