using System.Net.Sockets;
using System.Text;

namespace ZtGateway.IntegrationTests.Infrastructure;

/// <summary>Sends a request with an exact request-target and headers, bypassing HttpClient's URI normalization.</summary>
public static class RawHttp
{
    public static async Task<(int Status, string Response)> SendAsync(Uri listener, string method, string target, params string[] headers)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(listener.Host, listener.Port);
        await using var stream = client.GetStream();
        var request = new StringBuilder()
            .Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        if (!headers.Any(h => h.StartsWith("Host:", StringComparison.OrdinalIgnoreCase)))
        {
            request.Append("Host: ").Append(listener.Authority).Append("\r\n");
        }

        foreach (var header in headers)
        {
            request.Append(header).Append("\r\n");
        }

        request.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var response = await reader.ReadToEndAsync(timeout.Token);
        var statusLine = response.Split("\r\n", 2)[0];
        var status = int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, response);
    }
}
