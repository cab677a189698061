using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Tests.Loading.Values;

/// <summary>The SPIFFE id syntax X.509-SVIDs and trust domains are held to.</summary>
public sealed class SpiffeIdTests
{
    [Theory]
    [InlineData("spiffe://corp.example/hr/payroll-engine", "corp.example")]
    [InlineData("spiffe://corp.example/a", "corp.example")]
    [InlineData("spiffe://x_y-z.0/Mixed.Case_path-1/2", "x_y-z.0")]
    public void AcceptsWorkloadIds(string id, string trustDomain)
    {
        Assert.Null(SpiffeId.CheckWorkloadId(id, out var domain));
        Assert.Equal(trustDomain, domain);
    }

    [Theory]
    [InlineData("https://corp.example/hr", "does not start with spiffe:// in lower case")]
    [InlineData("SPIFFE://corp.example/hr", "does not start with spiffe:// in lower case")]
    [InlineData("spiffe:corp.example/hr", "does not start with spiffe:// in lower case")]
    [InlineData("spiffe:///hr", "has an empty trust domain")]
    [InlineData("spiffe://Corp.example/hr", "has an invalid trust domain (lower-case letters, digits, '.', '-' and '_' only; no port or user info)")]
    [InlineData("spiffe://corp.example:443/hr", "has an invalid trust domain (lower-case letters, digits, '.', '-' and '_' only; no port or user info)")]
    [InlineData("spiffe://user@corp.example/hr", "has an invalid trust domain (lower-case letters, digits, '.', '-' and '_' only; no port or user info)")]
    [InlineData("spiffe://corp.example", "has no path: it names a trust domain, not a workload")]
    [InlineData("spiffe://corp.example/", "has no path: it names a trust domain, not a workload")]
    [InlineData("spiffe://corp.example/hr/", "has an empty path segment")]
    [InlineData("spiffe://corp.example//hr", "has an empty path segment")]
    [InlineData("spiffe://corp.example/hr/./x", "has a '.' or '..' path segment")]
    [InlineData("spiffe://corp.example/hr/../finance", "has a '.' or '..' path segment")]
    [InlineData("spiffe://corp.example/hr?x=1", "has a path character other than letters, digits, '.', '-' and '_' (no query, fragment or percent-encoding)")]
    [InlineData("spiffe://corp.example/hr#x", "has a path character other than letters, digits, '.', '-' and '_' (no query, fragment or percent-encoding)")]
    [InlineData("spiffe://corp.example/h%72", "has a path character other than letters, digits, '.', '-' and '_' (no query, fragment or percent-encoding)")]
    [InlineData("spiffe://corp.example/h r", "has a path character other than letters, digits, '.', '-' and '_' (no query, fragment or percent-encoding)")]
    public void RefusesWithAReason(string id, string reason)
    {
        Assert.Equal(reason, SpiffeId.CheckWorkloadId(id, out var domain));
        Assert.Equal(string.Empty, domain);
    }

    [Fact]
    public void RefusesIdsAndTrustDomainsThatAreTooLong()
    {
        Assert.Equal("is longer than 2048 characters", SpiffeId.CheckWorkloadId("spiffe://corp.example/" + new string('a', 2048), out _));
        Assert.True(SpiffeId.IsTrustDomain(new string('a', 255)));
        Assert.False(SpiffeId.IsTrustDomain(new string('a', 256)));
        Assert.False(SpiffeId.IsTrustDomain(string.Empty));
    }
}
