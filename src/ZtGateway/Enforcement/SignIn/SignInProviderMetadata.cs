using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ZtGateway.Enforcement.Model;

namespace ZtGateway.Enforcement.SignIn;

/// <summary>
/// The provider metadata the OpenID Connect handler uses (endpoints, signing keys), taken from the live policy's issuer:
/// the same discovery document and key set the gateway verifies bearer tokens with, so there is one key-set cache per
/// issuer and a policy reload that changes the issuer is seen at once.
/// </summary>
internal sealed class SignInProviderMetadata(GatewayStateHolder state, string issuerName) : IConfigurationManager<OpenIdConnectConfiguration>
{
    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel) =>
        await state.Current.Tokens.GetProviderConfigurationAsync(issuerName, cancel).ConfigureAwait(false)
        ?? throw new SignInUnavailableException("the metadata of issuer " + issuerName + " cannot be had now");

    // Refreshes belong to the issuer's key-set cache (unknown kid, periodic refresh).
    public void RequestRefresh()
    {
    }
}

/// <summary>The provider cannot be used now (its metadata is unreachable): sign-in is refused with a 503, never forwarded.</summary>
internal sealed class SignInUnavailableException(string message) : InvalidOperationException(message);
