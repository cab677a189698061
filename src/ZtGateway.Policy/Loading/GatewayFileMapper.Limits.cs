using System.Globalization;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Loading.Yaml;

namespace ZtGateway.Policy.Loading;

/// <summary>The <c>gateway.limits</c> section: the per-source refusal allowance.</summary>
internal sealed partial class GatewayFileMapper
{
    private LimitsSettings ReadLimits(Node? node)
    {
        var settings = new LimitsSettings();
        var map = reader.Mapping(node, "gateway.limits");
        if (map is null)
        {
            return settings;
        }

        var rateNode = reader.Scalar(map.Get("refusalsPerSource"), "gateway.limits.refusalsPerSource");
        var rate = settings.RefusalsPerSource;
        if (rateNode is not null)
        {
            if (rateNode.Value == "off")
            {
                rate = null;
            }
            else if (TryParseRate(rateNode.Value, out var parsed))
            {
                rate = parsed;
            }
            else
            {
                reader.Error(rateNode.Location,
                    $"'gateway.limits.refusalsPerSource' must be a rate such as 50/s or 600/m (a positive whole number per second or per minute), or off, not '{rateNode.Value}'");
            }
        }

        settings = settings with
        {
            RefusalsPerSource = rate,
            RefusalBurst = reader.PositiveInt(map.Get("refusalBurst"), "gateway.limits.refusalBurst") ?? settings.RefusalBurst,
        };
        map.Complete("'gateway.limits'");
        return settings;
    }

    // "<count>/s" or "<count>/m"; the count is a positive whole number without sign or spaces.
    private static bool TryParseRate(string text, out RefusalRate rate)
    {
        rate = LimitsSettings.DefaultRefusalsPerSource;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash != text.Length - 2)
        {
            return false;
        }

        var period = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(1),
            'm' => TimeSpan.FromMinutes(1),
            _ => TimeSpan.Zero,
        };
        if (period == TimeSpan.Zero
            || !int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count <= 0)
        {
            return false;
        }

        rate = new RefusalRate(count, period);
        return true;
    }
}
