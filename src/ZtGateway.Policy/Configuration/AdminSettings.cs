namespace ZtGateway.Policy.Configuration;

/// <summary>The <c>admin:</c> section: who may call <c>/admin/*</c>.</summary>
public sealed record AdminSettings
{
    /// <summary>Name of an entry of <c>identity.issuers</c>. Required.</summary>
    public required string Issuer { get; init; }

    /// <summary>Role the admin token must carry. Required.</summary>
    public required string Role { get; init; }
}
