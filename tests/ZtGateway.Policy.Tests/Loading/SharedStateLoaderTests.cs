using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Tests.Loading;

/// <summary><c>gateway.sharedState</c>: the Redis a deployment shares state through, its defaults, and every error with its line.</summary>
public sealed class SharedStateLoaderTests
{
    [Fact]
    public void Absent_ThisProcessKeepsItsStateAlone()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", PolicySamples.JwksIssuer);

        Assert.Null(Load(folder));
    }

    [Theory]
    [InlineData("redis: 127.0.0.1:6379", "127.0.0.1:6379", "ztgw")]
    [InlineData("redis: \"127.0.0.1:6379\"\n    prefix: finance-prod", "127.0.0.1:6379", "finance-prod")]
    [InlineData("redis: redis.corp.internal", "redis.corp.internal", "ztgw")]
    [InlineData("redis: \"[::1]:6380,ssl=true,sslHost=redis.corp,user=ztgw,password=s3cret\"", "[::1]:6380,ssl=true,sslHost=redis.corp,user=ztgw,password=s3cret", "ztgw")]
    [InlineData("redis: \"a:6379, b:6379 ,connectTimeout=2000,abortConnect=false\"", "a:6379, b:6379 ,connectTimeout=2000,abortConnect=false", "ztgw")]
    [InlineData("redis: \"r:6379,SSL=True,Password=x\"\n    prefix: Ztgw_2.a", "r:6379,SSL=True,Password=x", "Ztgw_2.a")]
    public void Reads_TheConfigurationStringAndPrefix(string keys, string redis, string prefix)
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", "gateway:\n  sharedState:\n    " + keys + "\n" + PolicySamples.JwksIssuer);

        var shared = Load(folder);

        Assert.NotNull(shared);
        Assert.Equal(redis, shared.Redis);
        Assert.Equal(prefix, shared.Prefix);
    }

    [Fact]
    public void ThePassword_IsNeverPrinted()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml",
            "gateway:\n  sharedState:\n    redis: \"r:6379,user=gw,Password=hunter2,ssl=true\"\n" + PolicySamples.JwksIssuer);

        var gateway = folder.Load().Policy!.Gateway.Gateway;

        Assert.DoesNotContain("hunter2", gateway.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", gateway.SharedState!.ToString(), StringComparison.Ordinal);
        Assert.Equal("r:6379,user=gw,password=*****,ssl=true", gateway.SharedState.RedactedRedis);
    }

    public static TheoryData<string, string> Errors => new()
    {
        { "prefix: x", "gateway.yaml:3:5: error: missing required key 'redis' in 'gateway.sharedState' (a StackExchange.Redis configuration string such as 127.0.0.1:6379)" },
        { "redis: \"\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' must not be empty" },
        { "redis: \"a:6379,,b\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' has an empty entry between commas" },
        { "redis: \"ssl=true\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' names no endpoint (host[:port])" },
        { "redis: \"a:0\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' names an endpoint 'a:0' that is not host[:port] (a port from 1 to 65535; IPv6 in brackets)" },
        { "redis: \"a:70000\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' names an endpoint 'a:70000' that is not host[:port] (a port from 1 to 65535; IPv6 in brackets)" },
        { "redis: \"::1:6379\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' names an endpoint '::1:6379' that is not host[:port] (a port from 1 to 65535; IPv6 in brackets)" },
        { "redis: \"bad host:6379\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' names an endpoint 'bad host:6379' that is not host[:port] (a port from 1 to 65535; IPv6 in brackets)" },
        { "redis: \"a:6379,ssl=yes\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' option 'ssl' must be true or false, not 'yes'" },
        { "redis: \"a:6379,connectTimeout=-1\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' option 'connectTimeout' must be a whole number, not '-1'" },
        { "redis: \"a:6379,password=\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' option 'password' must not be empty" },
        { "redis: \"a:6379,allowAdmin=true\"", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' has an unsupported option 'allowAdmin' (supported: user, password, ssl, sslHost, sslProtocols, checkCertificateRevocation, name, abortConnect, connectTimeout, connectRetry, syncTimeout, asyncTimeout, keepAlive, defaultDatabase, resolveDns)" },
        { "redis: a:6379\n    prefix: \"a:b\"", "gateway.yaml:4:13: error: 'gateway.sharedState.prefix' may hold only letters, digits, '-', '_' and '.', not 'a:b'" },
        { "redis: a:6379\n    prefix: \"zt*\"", "gateway.yaml:4:13: error: 'gateway.sharedState.prefix' may hold only letters, digits, '-', '_' and '.', not 'zt*'" },
        { "redis: a:6379\n    prefix: \"\"", "gateway.yaml:4:13: error: 'gateway.sharedState.prefix' must be 1 to 64 characters, not ''" },
        { "redis: a:6379\n    channel: x", "gateway.yaml:4:5: error: unknown key 'channel' in 'gateway.sharedState'" },
        { "redis: [a:6379]", "gateway.yaml:3:12: error: 'gateway.sharedState.redis' must be a single value, not a list" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Rejects_WithTheLineOfTheBadValue(string keys, string expected)
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", "gateway:\n  sharedState:\n    " + keys + "\n" + PolicySamples.JwksIssuer);

        var result = folder.Load();

        Assert.Null(result.Policy);
        Assert.Equal(expected, folder.FormatAll(result));
    }

    [Fact]
    public void ABadPassword_IsNotEchoed()
    {
        using var folder = PolicySamples.Minimal().Write("gateway.yaml", "gateway:\n  sharedState:\n    redis: \"a:6379,password=hunter2,ssl=maybe\"\n" + PolicySamples.JwksIssuer);

        var text = folder.FormatAll(folder.Load());

        Assert.Contains("option 'ssl' must be true or false", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
    }

    private static SharedStateSettings? Load(PolicyFolder folder)
    {
        var result = folder.Load();
        Assert.True(result.Succeeded, folder.FormatAll(result));
        return result.Policy!.Gateway.Gateway.SharedState;
    }
}
