using ZtGateway.Enforcement;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Tests.Enforcement;

/// <summary>The status, title and RFC 6750 challenge of <c>token-unbound</c> and of a token bound to another certificate.</summary>
public sealed class BindingChallengeTests
{
    [Fact]
    public void TokenUnbound_Is401_WithAFixedTitle()
    {
        Assert.Equal(401, ReasonStatus.For(ReasonCode.TokenUnbound));
        Assert.Equal("A certificate-bound token is required", ReasonStatus.Title(ReasonCode.TokenUnbound));
    }

    [Fact]
    public void TokenUnbound_ChallengesForACertificateBoundToken()
    {
        Assert.Equal(
            "Bearer realm=\"ztgw:hr\", error=\"invalid_token\", error_description=\"a certificate-bound token is required\"",
            DenialWriter.Challenge("hr", ReasonCode.TokenUnbound, null, null));
    }

    [Fact]
    public void ATokenBoundElsewhere_SaysSo_AndAnyOtherInvalidTokenDoesNot()
    {
        Assert.Equal(
            "Bearer realm=\"ztgw:hr\", error=\"invalid_token\", error_description=\"the token is bound to a client certificate this connection did not present\"",
            DenialWriter.Challenge("hr", ReasonCode.TokenInvalid, null, null, boundToAnotherCertificate: true));
        Assert.Equal("Bearer realm=\"ztgw:hr\", error=\"invalid_token\"", DenialWriter.Challenge("hr", ReasonCode.TokenInvalid, null, null));
    }

    [Theory]
    [InlineData(DenialWriter.BoundTokenRequiredDescription)]
    [InlineData(DenialWriter.BoundToAnotherCertificateDescription)]
    public void Descriptions_AreRfc6750Text(string description)
    {
        // error_description: %x20-21 / %x23-5B / %x5D-7E, so no quote and no backslash.
        Assert.All(description, c => Assert.True(c is >= ' ' and <= '~' and not '"' and not '\\', $"'{c}'"));
    }
}
