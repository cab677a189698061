using StackExchange.Redis;
using ZtGateway.Policy.Loading.Values;

namespace ZtGateway.Tests.Continuous;

/// <summary>
/// The policy loader checks <c>gateway.sharedState.redis</c> without the Redis client; the runtime parses it with
/// StackExchange.Redis. Every string the loader accepts must mean to the client what the loader thought.
/// </summary>
public sealed class RedisConfigurationAgreementTests
{
    [Theory]
    [InlineData("127.0.0.1:6379", new[] { "127.0.0.1:6379" })]
    [InlineData("redis.corp.internal", new[] { "redis.corp.internal" })]
    [InlineData("[::1]:6380,ssl=true,sslHost=redis.corp,user=ztgw,password=s3cret", new[] { "[::1]:6380" })]
    [InlineData("a:6379, b:6380 ,connectTimeout=2000,abortConnect=false", new[] { "a:6379", "b:6380" })]
    [InlineData("r:6379,SSL=True,Password=x,syncTimeout=100,asyncTimeout=100,keepAlive=5,defaultDatabase=2,name=gw,resolveDns=false,connectRetry=2,checkCertificateRevocation=false,sslProtocols=Tls12", new[] { "r:6379" })]
    public void WhatTheLoaderAccepts_TheClientParses_ToTheSameEndpoints(string configuration, string[] endpoints)
    {
        Assert.Null(RedisConfigurationSyntax.Check(configuration));

        var options = ConfigurationOptions.Parse(configuration);

        Assert.Equal(endpoints, options.EndPoints.Select(Format).ToArray());
        Assert.False(options.AllowAdmin);
    }

    [Fact]
    public void ThePassword_ReachesTheClient()
    {
        var options = ConfigurationOptions.Parse("r:6379,user=gw,password=s3cret,ssl=true");

        Assert.Equal("gw", options.User);
        Assert.Equal("s3cret", options.Password);
        Assert.True(options.Ssl);
    }

    [Theory]
    [InlineData("a:6379,allowAdmin=true")]
    [InlineData("a:6379,channelPrefix=x")]
    [InlineData("a:6379,serviceName=mymaster")]
    [InlineData("a:6379,notAnOption=1")]
    public void WhatTheLoaderRefuses_IsAnOptionWeDoNotSupport(string configuration) =>
        Assert.NotNull(RedisConfigurationSyntax.Check(configuration));

    [Fact]
    public void EveryOptionTheLoaderAccepts_IsKnownToTheClient()
    {
        foreach (var name in RedisConfigurationSyntax.OptionNames)
        {
            var value = name switch
            {
                "ssl" or "abortConnect" or "resolveDns" or "checkCertificateRevocation" => "true",
                "connectTimeout" or "connectRetry" or "syncTimeout" or "asyncTimeout" or "keepAlive" or "defaultDatabase" => "1",
                "sslProtocols" => "Tls12",
                _ => "x",
            };
            var configuration = $"a:6379,{name}={value}";
            Assert.Null(RedisConfigurationSyntax.Check(configuration));
            var parsed = ConfigurationOptions.Parse(configuration); // throws on an unknown keyword
            Assert.Single(parsed.EndPoints);
        }
    }

    private static string Format(System.Net.EndPoint endpoint) => endpoint switch
    {
        System.Net.IPEndPoint ip => ip.ToString(),
        System.Net.DnsEndPoint { Port: 0 } dns => dns.Host, // no port: the client's default (6379, or 6380 with ssl)
        System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endpoint.ToString()!,
    };
}
