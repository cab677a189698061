using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Values;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>The <c>gateway.sharedState</c> section: the Redis that every gateway of a deployment shares state through.</summary>
internal sealed partial class GatewayFileMapper
{
    private SharedStateSettings? ReadSharedState(Node? node)
    {
        var map = reader.Mapping(node, "gateway.sharedState");
        if (map is null)
        {
            return null;
        }

        var redisValue = map.Get("redis");
        var redisNode = reader.Scalar(redisValue, "gateway.sharedState.redis");
        var prefixNode = reader.Scalar(map.Get("prefix"), "gateway.sharedState.prefix");
        map.Complete("'gateway.sharedState'");
        if (redisNode is null)
        {
            if (redisValue is not null)
            {
                return null; // not a single value: already reported
            }

            reader.Error(map.Location, "missing required key 'redis' in 'gateway.sharedState' (a StackExchange.Redis configuration string such as 127.0.0.1:6379)");
            return null;
        }

        if (RedisConfigurationSyntax.Check(redisNode.Value) is { } error)
        {
            reader.Error(redisNode.Location, "'gateway.sharedState.redis' " + error);
        }

        var prefix = prefixNode?.Value ?? SharedStateSettings.DefaultPrefix;
        if (prefixNode is not null && RedisConfigurationSyntax.CheckPrefix(prefix) is { } prefixError)
        {
            reader.Error(prefixNode.Location, $"'gateway.sharedState.prefix' {prefixError}, not '{prefix}'");
        }

        return new SharedStateSettings { Redis = redisNode.Value, Prefix = prefix, Location = map.Location };
    }
}
