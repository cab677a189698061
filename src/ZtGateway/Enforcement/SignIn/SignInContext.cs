using Microsoft.AspNetCore.DataProtection;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Enforcement.SignIn;

/// <summary>What a <c>signIn: true</c> listener needs to sign people in: the settings, the issuer, the client secret and the key ring.</summary>
/// <param name="Settings">gateway.yaml's <c>signIn:</c>.</param>
/// <param name="Issuer">The <c>identity.issuers</c> entry it names (type <c>oidc</c> or <c>entra</c>).</param>
/// <param name="ClientSecret">The first line of <c>clientSecretFile</c>.</param>
/// <param name="Keys">The Data Protection key ring of sessions and of the sign-in's <c>state</c>, one per process.</param>
internal sealed record SignInContext(SignInSettings Settings, IssuerConfig Issuer, string ClientSecret, IDataProtectionProvider Keys)
{
    /// <summary>How the gateway prints it: never the secret.</summary>
    public override string ToString() => $"sign-in at {Issuer.Name} as {Settings.ClientId}";
}
