using ZtGateway.Sources.Identity;

namespace ZtGateway.Tests.Caching;

/// <summary>A token verifier that answers with <c>verdict</c> and counts how often it was asked, per header too.</summary>
internal sealed class CountingValidator(Func<string?, TokenValidationOutcome> verdict) : ITokenValidator
{
    private readonly Dictionary<string, int> _byHeader = new(StringComparer.Ordinal);
    private int _calls;

    public event Action? SigningKeysChanged;

    public int Calls => _calls;

    public int CallsFor(string header)
    {
        lock (_byHeader)
        {
            return _byHeader.GetValueOrDefault(header);
        }
    }

    public ValueTask<TokenValidationOutcome> ValidateAsync(string? authorizationHeader, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        lock (_byHeader)
        {
            _byHeader[authorizationHeader ?? string.Empty] = _byHeader.GetValueOrDefault(authorizationHeader ?? string.Empty) + 1;
        }

        return ValueTask.FromResult(verdict(authorizationHeader));
    }

    public IReadOnlyList<IssuerReadiness> GetReadiness() => [];

    public void RaiseSigningKeysChanged() => SigningKeysChanged?.Invoke();
}
