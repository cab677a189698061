using System.Globalization;
using System.Text;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Hosting;

/// <summary>A cheap fingerprint of the policy files (names, sizes, modification times) to notice edits.</summary>
internal static class PolicyFiles
{
    public static string Fingerprint(GatewayConfig gateway)
    {
        var builder = new StringBuilder();
        Append(builder, gateway.FilePath);
        if (Directory.Exists(gateway.Gateway.PolicyDir))
        {
            var files = Directory.GetFiles(gateway.Gateway.PolicyDir);
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var file in files)
            {
                Append(builder, file);
            }
        }

        return builder.ToString();
    }

    private static void Append(StringBuilder builder, string path)
    {
        var info = new FileInfo(path);
        builder.Append(path).Append('|');
        if (info.Exists)
        {
            builder.Append(info.Length.ToString(CultureInfo.InvariantCulture)).Append('|')
                .Append(info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture));
        }

        builder.Append('\n');
    }
}
